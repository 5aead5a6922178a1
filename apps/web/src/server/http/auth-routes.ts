import type http from "node:http";

import { AppError, formatIssues } from "@heron/core";
import { z } from "zod";

import { inputProblem } from "../input-shape";
import type { Services } from "../services";
import type { AuthLimiter } from "../services/auth-limiter";
import { readJsonBody, sendError, sendJson } from "./json-body";
import { clientIp, isSameOrigin, readCookie, SESSION_COOKIE } from "./request-auth";

const SignInSchema = z.object({ email: z.string().min(1, "email is required").max(320), password: z.string().min(1, "password is required").max(200) });

export type AuthRouteOptions = { services: Services; limiter: AuthLimiter; secureCookies: boolean; allowedHost: (host: string) => boolean };

function sessionCookie(value: string, maxAgeS: number, secure: boolean) {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure ? "; Secure" : ""}`;
}

/** POST /api/auth/sign-in {email, password} → session cookie; POST /api/auth/sign-out. */
export async function handleAuthRoute(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, o: AuthRouteOptions) {
  const ip = clientIp(req);
  try {
    if (req.method !== "POST") throw new AppError("NOT_FOUND", `${req.method} ${pathname} is not a route (use POST)`);
    // a sign-in form on another site must not sign a visitor in (login CSRF), nor sign them out
    if (!isSameOrigin(req.headers, o.allowedHost)) throw new AppError("FORBIDDEN", "cross-site request refused (Origin does not match this server)");
    if (pathname === "/api/auth/sign-out") {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      const sessionId = token ? await o.services.auth.endSession(token) : null;
      if (sessionId) o.services.notifier.revokeCredential(`session:${sessionId}`);
      return sendJson(res, 200, { ok: true }, { "set-cookie": sessionCookie("", 0, o.secureCookies) });
    }
    if (pathname !== "/api/auth/sign-in") throw new AppError("NOT_FOUND", `${pathname} is not a route`);
    const retry = ip ? await o.limiter.retryAfterS(ip) : 0;
    if (retry > 0)
      return sendJson(res, 429, { error: `too many failed sign-ins from this address; try again in ${retry} s` }, { "retry-after": String(retry) });
    const body = await readJsonBody(req, 8 * 1024);
    const problem = inputProblem(body);
    if (problem) throw new AppError("BAD_REQUEST", problem);
    const parsed = SignInSchema.safeParse(body);
    if (!parsed.success) throw new AppError("BAD_REQUEST", formatIssues(parsed.error.issues));
    const user = await o.services.users.verifyPassword(parsed.data.email, parsed.data.password);
    if (!user) {
      if (ip) await o.limiter.fail(ip);
      await o.services.audit.record(null, { action: "auth.sign_in_failed", detail: { email: parsed.data.email.slice(0, 320) }, ip });
      throw new AppError("UNAUTHORIZED", "wrong email or password");
    }
    const s = await o.services.auth.createSession(user.id);
    await o.services.audit.record(
      {
        kind: "user",
        userId: user.id,
        label: user.email,
        admin: user.role === "admin",
        scope: "admin",
        projectIds: null,
        keyId: null,
        sessionId: s.sessionId,
        expiresAt: s.expiresAt,
      },
      { action: "auth.signed_in", ip },
    );
    const maxAge = Math.floor((s.expiresAt.getTime() - Date.now()) / 1000);
    sendJson(
      res,
      200,
      { ok: true, user: { id: user.id, email: user.email, role: user.role } },
      { "set-cookie": sessionCookie(s.token, maxAge, o.secureCookies) },
    );
  } catch (err) {
    sendError(res, err);
  }
}
