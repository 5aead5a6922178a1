import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { Rule } from "./policy";
import { isProjectRole, type Principal, type ProjectRole, roleAtLeast, scopeAtLeast, type UserPrincipal } from "./principal";

type Raw = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 200 ? v : undefined);
const asRaw = (v: unknown): Raw => (v && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});

/** The one place that decides whether a principal may make a call, from the policy tables. */
export function createAuthorizer(prisma: PrismaClient) {
  async function roleIn(userId: string, projectId: string): Promise<ProjectRole | null> {
    const m = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } } });
    return m && isProjectRole(m.role) ? m.role : null;
  }

  /** The project ids a call's input points at (and, for jobs, the job rows for ownership). */
  async function resolveTarget(
    rule: Rule,
    raw: Raw,
  ): Promise<{ projectIds: string[]; job?: { submittedBy: string | null }; runIds?: string[]; projectName?: string }> {
    switch (rule.target) {
      case "project": {
        const ref = str(raw.projectId) ?? str(raw.project);
        if (!ref) return { projectIds: [] };
        const p = await prisma.project.findFirst({ where: { OR: [{ id: ref }, { name: ref }] }, select: { id: true } });
        if (!p) throw new AppError("NOT_FOUND", `project "${ref}" not found`);
        return { projectIds: [p.id] };
      }
      case "projectName": {
        const name = str(raw.project);
        if (!name) return { projectIds: [] };
        const p = await prisma.project.findUnique({ where: { name }, select: { id: true } });
        // a project that does not exist yet is created by the call; its creator becomes maintainer
        return { projectIds: p ? [p.id] : [], projectName: name };
      }
      case "run": {
        const runId = str(raw.runId);
        if (!runId) return { projectIds: [] };
        const r = await prisma.run.findUnique({ where: { id: runId }, select: { projectId: true } });
        if (!r) throw new AppError("NOT_FOUND", `run "${runId}" not found`);
        return { projectIds: [r.projectId], runIds: [runId] };
      }
      case "runs": {
        const ids = Array.isArray(raw.runIds) ? raw.runIds.filter((x): x is string => typeof x === "string").slice(0, 1000) : [];
        if (!ids.length) return { projectIds: [] };
        const runs = await prisma.run.findMany({ where: { id: { in: ids } }, select: { projectId: true } });
        return { projectIds: [...new Set(runs.map((r) => r.projectId))], runIds: ids };
      }
      case "job": {
        const jobId = str(raw.jobId);
        if (!jobId) return { projectIds: [] };
        const j = await prisma.job.findUnique({ where: { id: jobId }, select: { projectId: true, submittedBy: true } });
        if (!j) throw new AppError("NOT_FOUND", `job "${jobId}" not found`);
        return { projectIds: [j.projectId], job: j };
      }
      case "sweep": {
        const sweepId = str(raw.sweepId);
        if (!sweepId) return { projectIds: [] };
        const s = await prisma.sweep.findUnique({ where: { id: sweepId }, select: { projectId: true } });
        if (!s) throw new AppError("NOT_FOUND", `sweep "${sweepId}" not found`);
        return { projectIds: [s.projectId] };
      }
      default:
        return { projectIds: [] };
    }
  }

  async function authorizeUser(p: UserPrincipal, rule: Rule, name: string, target: Awaited<ReturnType<typeof resolveTarget>>) {
    if (rule.scope && !scopeAtLeast(p.scope, rule.scope))
      throw new AppError("FORBIDDEN", `${name} needs a key with scope "${rule.scope}"; this key's scope is "${p.scope}"`);
    if (rule.admin && !p.admin) throw new AppError("FORBIDDEN", `${name} needs the instance role "admin"`);
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
      if (!rule) throw new AppError("FORBIDDEN", `${name} is not allowed for anyone`);
      if (!rule.principals.includes(p.kind)) {
        throw new AppError(
          "FORBIDDEN",
          p.kind === "runner"
            ? `runner tokens cannot call ${name}`
            : p.kind === "job"
              ? `job tokens cannot call ${name}`
              : `${name} is reserved for runner daemons`,
        );
      }
      const raw = asRaw(input);
      if (p.kind === "runner") return;
      if (p.kind === "job") {
        // a job attempt reaches its own run and nothing else
        const runId = str(raw.runId);
        if (rule.target === "run" && runId !== p.runId) throw new AppError("FORBIDDEN", `this job's credentials cannot reach run ${runId ?? "(none)"}`);
        return;
      }
      await authorizeUser(p, rule, name, await resolveTarget(rule, raw));
    },
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
