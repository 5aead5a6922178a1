import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import { type Rule, TRASH_ROLE } from "./policy";
import { isProjectRole, type Principal, type ProjectRole, roleAtLeast, scopeAtLeast, type UserPrincipal } from "./principal";
import { type Raw, resolveTarget, type Target } from "./resolve-target";

const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 200 ? v : undefined);
const asRaw = (v: unknown): Raw => (v && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});

/**
 * The part of a decision that needs no database: the event or procedure exists, the kind of
 * principal may call it, runner and job tokens stay in their lanes. "allow" or an AppError when
 * that settles it; null when a user's project role has to be looked up. The socket layer calls
 * it first so the runner protocol and cached SDK batches never wait for a promise.
 */
function decideWithoutLookup(p: Principal, rule: Rule | undefined, name: string, input: unknown): "allow" | AppError | null {
  if (!rule) return new AppError("FORBIDDEN", `${name} is not allowed for anyone`);
  if (!rule.principals.includes(p.kind)) {
    return new AppError(
      "FORBIDDEN",
      p.kind === "runner"
        ? `runner tokens cannot call ${name}`
        : p.kind === "job"
          ? `job tokens cannot call ${name}`
          : `${name} is reserved for runner daemons`,
    );
  }
  if (p.kind === "runner") return "allow";
  if (p.kind === "job") {
    // a job attempt reaches its own run and nothing else
    const runId = str(asRaw(input).runId);
    return rule.target === "run" && runId !== p.runId ? new AppError("FORBIDDEN", `this job's credentials cannot reach run ${runId ?? "(none)"}`) : "allow";
  }
  return null;
}

/** The one place that decides whether a principal may make a call, from the policy tables. */
export function createAuthorizer(prisma: PrismaClient) {
  async function roleIn(userId: string, projectId: string): Promise<ProjectRole | null> {
    const m = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } } });
    return m && isProjectRole(m.role) ? m.role : null;
  }

  async function authorizeUser(p: UserPrincipal, rule: Rule, name: string, target: Target) {
    if (rule.scope && !scopeAtLeast(p.scope, rule.scope))
      throw new AppError("FORBIDDEN", `${name} needs a key with scope "${rule.scope}"; this key's scope is "${p.scope}"`);
    if (rule.admin && !p.admin) throw new AppError("FORBIDDEN", `${name} needs the instance role "admin"`);
    const trashed = rule.scope === "read" && !p.admin ? (target.trashedRunIds?.[0] ?? null) : null;
    for (const projectId of target.projectIds) {
      if (p.projectIds && !p.projectIds.includes(projectId))
        throw new AppError("FORBIDDEN", `this key is restricted to other projects than the one ${name} names`);
      if (p.admin || !rule.role) continue;
      const role = p.userId ? await roleIn(p.userId, projectId) : null;
      if (!roleAtLeast(role, rule.role))
        throw new AppError(
          "FORBIDDEN",
          `${name} needs the project role "${rule.role}"${role ? ` (you are "${role}")` : " (you are not a member of this project)"}`,
        );
      // after the role check: only those who may see the project learn that the run is in its trash
      if (trashed && !roleAtLeast(role, rule.trashed ?? TRASH_ROLE)) throw new AppError("NOT_FOUND", `run "${trashed}" not found (it is in the trash)`);
      if (rule.ownJob && target.job && target.job.submittedBy !== p.userId && !roleAtLeast(role, "maintainer")) {
        throw new AppError("FORBIDDEN", `${name} on another user's job needs the project role "maintainer"`);
      }
    }
  }

  return {
    roleIn,
    /**
     * Throws AppError FORBIDDEN / NOT_FOUND unless `p` may make the call `name` governed by
     * `rule` with this (not yet validated) input. Input fields are read defensively: the
     * call's own schema validates them afterwards.
     */
    async authorize(p: Principal, rule: Rule | undefined, name: string, input: unknown): Promise<void> {
      const decided = decideWithoutLookup(p, rule, name, input);
      if (decided === "allow") return;
      if (decided instanceof AppError) throw decided;
      await authorizeUser(p as UserPrincipal, rule!, name, await resolveTarget(prisma, rule!, asRaw(input)));
    },
    decideWithoutLookup,
    /** Project ids the caller may see; null = all (an unrestricted admin). */
    async visibleProjectIds(p: Principal): Promise<string[] | null> {
      if (p.kind === "job") return [p.projectId];
      if (p.kind === "runner") return [];
      if (p.admin) return p.projectIds;
      if (!p.userId) return [];
      const mine = (await prisma.projectMember.findMany({ where: { userId: p.userId }, select: { projectId: true } })).map((m) => m.projectId);
      return p.projectIds ? mine.filter((id) => p.projectIds!.includes(id)) : mine;
    },
  };
}
export type Authorizer = ReturnType<typeof createAuthorizer>;
