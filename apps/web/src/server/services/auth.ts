import crypto from "node:crypto";

import { hashSecret, secretKind } from "@heron/core/node";
import type { PrismaClient } from "@heron/db";

import { LOCAL_PRINCIPAL, type Principal, type Scope, SCOPES, type UserPrincipal } from "../auth/principal";

export type { Principal } from "../auth/principal";

const SESSION_TTL_MS = 14 * 24 * 3600_000;
/** lastUsedAt is for people reading the keys list: once a minute is precise enough and spares a write per request */
const TOUCH_EVERY_MS = 60_000;
const asScope = (s: string): Scope => ((SCOPES as readonly string[]).includes(s) ? (s as Scope) : "read");
const asIds = (v: unknown): string[] | null => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : null);

/** Turns a presented secret (API key, runner token, job token, session cookie) into a Principal, or null. */
export function createAuthService(prisma: PrismaClient, localKeyHash: string | null) {
  const touched = new Map<string, number>();
  function touchKey(id: string) {
    const now = Date.now();
    if ((touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    touched.set(id, now);
    void prisma.apiKey.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
  }

  async function apiKeyPrincipal(hash: string): Promise<UserPrincipal | null> {
    const key = await prisma.apiKey.findUnique({ where: { keyHash: hash }, include: { user: true } });
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) return null;
    if (key.user?.disabledAt) return null;
    touchKey(key.id);
    return {
      kind: "user",
      userId: key.userId,
      label: key.user ? `${key.user.email} (key ${key.name})` : `key ${key.name}`,
      // a key without a user (bootstrap, or from before users existed) acts for the instance
      admin: key.user ? key.user.role === "admin" : true,
      scope: asScope(key.scope),
      projectIds: asIds(key.projectIds),
      keyId: key.id,
      sessionId: null,
      expiresAt: key.expiresAt,
    };
  }

  return {
    async authenticate(secret: string | undefined | null): Promise<Principal | null> {
      if (!secret || secret.length > 512) return null;
      const hash = hashSecret(secret);
      if (localKeyHash && crypto.timingSafeEqual(Buffer.from(hash), Buffer.from(localKeyHash))) return LOCAL_PRINCIPAL;
      switch (secretKind(secret)) {
        case "runner": {
          const runner = await prisma.runner.findUnique({ where: { tokenHash: hash } });
          if (!runner || runner.revokedAt) return null;
          return { kind: "runner", runnerId: runner.id, allowedQueues: asIds(runner.allowedQueues) ?? ["default"] };
        }
        case "job": {
          const job = await prisma.job.findUnique({ where: { jobTokenHash: hash } });
          // the token dies with its attempt: a late process of an old attempt is refused here
          if (!job || job.status !== "running" || !job.runId) return null;
          return { kind: "job", jobId: job.id, runId: job.runId, projectId: job.projectId, fencingToken: job.fencingToken };
        }
        default:
          // API keys: ours start with hk_, but a bootstrap key may be any string
          return apiKeyPrincipal(hash);
      }
    },
    /** A session cookie's token → the signed-in user (full scope: a person at the dashboard). */
    async authenticateSession(token: string | undefined | null): Promise<UserPrincipal | null> {
      if (!token || token.length > 200) return null;
      const s = await prisma.session.findUnique({ where: { tokenHash: hashSecret(token) }, include: { user: true } });
      if (!s || s.expiresAt.getTime() <= Date.now() || s.user.disabledAt) return null;
      return {
        kind: "user",
        userId: s.userId,
        label: s.user.email,
        admin: s.user.role === "admin",
        scope: "admin",
        projectIds: null,
        keyId: null,
        sessionId: s.id,
        expiresAt: s.expiresAt,
      };
    },
    async createSession(userId: string): Promise<{ token: string; sessionId: string; expiresAt: Date }> {
      const token = "hs_" + crypto.randomBytes(32).toString("base64url");
      const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
      const s = await prisma.session.create({ data: { tokenHash: hashSecret(token), userId, expiresAt } });
      return { token, sessionId: s.id, expiresAt };
    },
    async endSession(token: string): Promise<string | null> {
      const s = await prisma.session.findUnique({ where: { tokenHash: hashSecret(token) } });
      if (!s) return null;
      await prisma.session.delete({ where: { id: s.id } }).catch(() => undefined);
      return s.id;
    },
    async ensureBootstrapKey(key: string) {
      const keyHash = hashSecret(key);
      await prisma.apiKey.upsert({ where: { keyHash }, update: {}, create: { name: "bootstrap", keyHash, prefix: key.slice(0, 6), scope: "admin" } });
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
