import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { Rule } from "./policy";

export type Raw = Record<string, unknown>;
/** `trashedRunIds`: the named runs that are in the trash (reads of them are refused below admin, see authorize.ts) */
export type Target = { projectIds: string[]; job?: { submittedBy: string | null }; runIds?: string[]; projectName?: string; trashedRunIds?: string[] };
const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 200 ? v : undefined);

/** The project ids a call's input points at (and, for jobs, the job rows for ownership). */
export async function resolveTarget(prisma: PrismaClient, rule: Rule, raw: Raw): Promise<Target> {
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
      const r = await prisma.run.findUnique({ where: { id: runId }, select: { projectId: true, deletedAt: true } });
      if (!r) throw new AppError("NOT_FOUND", `run "${runId}" not found`);
      return { projectIds: [r.projectId], runIds: [runId], trashedRunIds: r.deletedAt ? [runId] : [] };
    }
    case "runs": {
      const ids = Array.isArray(raw.runIds) ? raw.runIds.filter((x): x is string => typeof x === "string").slice(0, 1000) : [];
      if (!ids.length) return { projectIds: [] };
      const runs = await prisma.run.findMany({ where: { id: { in: ids } }, select: { id: true, projectId: true, deletedAt: true } });
      return { projectIds: [...new Set(runs.map((r) => r.projectId))], runIds: ids, trashedRunIds: runs.filter((r) => r.deletedAt).map((r) => r.id) };
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
    case "lineage": {
      // lineage.get: a run, or an artifact version (or an artifact, standing for its newest version)
      if (str(raw.runId)) return resolveTarget(prisma, { ...rule, target: "run" }, raw);
      const id = str(raw.artifactId);
      if (!id) return { projectIds: [] };
      const v = await prisma.artifactVersion.findUnique({ where: { id }, select: { artifact: { select: { projectId: true } } } });
      const projectId = v?.artifact.projectId ?? (await prisma.artifact.findUnique({ where: { id }, select: { projectId: true } }))?.projectId;
      if (!projectId) throw new AppError("NOT_FOUND", `artifact "${id}" not found`);
      return { projectIds: [projectId] };
    }
    case "artifactVersion": {
      const id = str(raw.artifactVersionId);
      if (!id) return { projectIds: [] };
      const v = await prisma.artifactVersion.findUnique({ where: { id }, select: { artifact: { select: { projectId: true } } } });
      if (!v) throw new AppError("NOT_FOUND", `artifact version "${id}" not found`);
      return { projectIds: [v.artifact.projectId] };
    }
    default:
      return { projectIds: [] };
  }
}
