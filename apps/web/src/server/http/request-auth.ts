import type http from "node:http";

import type { Principal } from "../auth/principal";
import type { Services } from "../services";
import type { AuthLimiter } from "../services/auth-limiter";

export const SESSION_COOKIE = "heron_session";

export type RequestAuth = {
  principal: Principal | null;
  /** the credential came from the session cookie, not a header (CSRF rules apply) */
  viaCookie: boolean;
  ip: string | null;
  /** > 0: this address failed to authenticate too often; answer 429 */
  retryAfterS: number;
};

export function clientIp(req: http.IncomingMessage): string | null {
  return req.socket.remoteAddress ?? null;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
}

/**
 * The one way every entry point (tRPC, raw routes, socket handshakes) turns a request into a
 * principal: `Authorization: Bearer <key>` first, else the session cookie. Failures count
 * against the client address; past the limit nothing is checked at all.
 */
export async function authenticateRequest(
  headers: http.IncomingHttpHeaders,
  ip: string | null,
  services: Services,
  limiter: AuthLimiter,
  explicitToken?: string,
): Promise<RequestAuth> {
  const retryAfterS = ip ? await limiter.retryAfterS(ip) : 0;
  if (retryAfterS > 0) return { principal: null, viaCookie: false, ip, retryAfterS };
  const token = explicitToken ?? bearerToken(headers.authorization);
  const cookie = token ? undefined : readCookie(headers.cookie, SESSION_COOKIE);
  const principal = token ? await services.auth.authenticate(token) : cookie ? await services.auth.authenticateSession(cookie) : null;
  if (!principal && (token || cookie) && ip) await limiter.fail(ip);
  return { principal, viaCookie: !!cookie && !!principal, ip, retryAfterS: 0 };
}

/** Origin (or Referer) names this server, or neither is sent (scripts, curl). */
export function isSameOrigin(headers: http.IncomingHttpHeaders, allowedHosts: (host: string) => boolean): boolean {
  const origin = headers.origin ?? headers.referer;
  if (!origin) return true;
  try {
    const u = new URL(origin);
    return u.host === headers.host || allowedHosts(u.host);
  } catch {
    return false;
  }
}
