/** Key scopes, weakest first: a read key only reads; a write key also logs and submits; admin manages. */
export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];
/** A user's role in one project, weakest first. */
export const PROJECT_ROLES = ["viewer", "member", "maintainer"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];
export type InstanceRole = "admin" | "user";

/**
 * Who is calling.
 * - `user`: a signed-in browser (session), a user's API key, or — with `userId: null` — the
 *   bootstrap key, the local key or a key from before users existed: instance admins capped
 *   by their scope.
 * - `job`: a job attempt's SDK, limited to that job's run while its lease lives.
 * - `runner`: a runner daemon, limited to the runner protocol and its token's queues.
 */
export type UserPrincipal = {
  kind: "user";
  userId: string | null;
  /** email, key name or "local": for audit lines and messages */
  label: string;
  admin: boolean;
  scope: Scope;
  /** a key restricted to these projects; null = every project the user may see */
  projectIds: string[] | null;
  keyId: string | null;
  sessionId: string | null;
  expiresAt: Date | null;
};
export type JobPrincipal = { kind: "job"; jobId: string; runId: string; projectId: string; fencingToken: number };
export type RunnerPrincipal = { kind: "runner"; runnerId: string; allowedQueues: string[] };
export type Principal = UserPrincipal | JobPrincipal | RunnerPrincipal;

export const LOCAL_PRINCIPAL: UserPrincipal = {
  kind: "user",
  userId: null,
  label: "local",
  admin: true,
  scope: "admin",
  projectIds: null,
  keyId: null,
  sessionId: null,
  expiresAt: null,
};

export const scopeAtLeast = (have: Scope, need: Scope) => SCOPES.indexOf(have) >= SCOPES.indexOf(need);
export const roleAtLeast = (have: ProjectRole | null, need: ProjectRole) => have !== null && PROJECT_ROLES.indexOf(have) >= PROJECT_ROLES.indexOf(need);
export const isProjectRole = (v: unknown): v is ProjectRole => typeof v === "string" && (PROJECT_ROLES as readonly string[]).includes(v);

/** The audit log's name for a principal. */
export function actorOf(p: Principal | null): { actor: string; actorLabel: string | null } {
  if (!p) return { actor: "anonymous", actorLabel: null };
  if (p.kind === "runner") return { actor: `runner:${p.runnerId}`, actorLabel: null };
  if (p.kind === "job") return { actor: `job:${p.jobId}`, actorLabel: null };
  if (p.userId) return { actor: `user:${p.userId}`, actorLabel: p.label };
  if (p.keyId) return { actor: `key:${p.keyId}`, actorLabel: p.label };
  return { actor: "local", actorLabel: "local" };
}
