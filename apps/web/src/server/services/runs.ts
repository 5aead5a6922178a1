import { AppError, type RunInit } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";
import type { ProjectService } from "./projects";

type Json = Record<string, unknown>;

/** Runs: created by the SDK's init (or by a job claim), finished by the SDK or the runner. */
export function createRunService(prisma: PrismaClient, metrics: MetricsStore, projects: ProjectService) {
  async function get(runId: string) {
    const run = await prisma.run.findUnique({ where: { id: runId }, include: { project: { select: { name: true } } } });
    if (!run) throw new AppError("NOT_FOUND", `run "${runId}" not found`);
    return run;
  }

  async function lastStep(runId: string): Promise<number | null> {
    const summary = (await metrics.summaries([runId]))[runId] ?? {};
    const steps = Object.values(summary).map((s) => s.lastStep ?? -1);
    return steps.length ? Math.max(...steps) : null;
  }

  return {
    get,
    lastStep,
    async list(projectId: string, limit = 500) {
      const runs = await prisma.run.findMany({ where: { projectId }, orderBy: { createdAt: "desc" }, take: limit });
      const summaries = await metrics.summaries(runs.map((r) => r.id));
      return runs.map((r) => ({
        ...r,
        durationMs: (r.finishedAt ?? r.heartbeatAt ?? r.updatedAt).getTime() - r.createdAt.getTime(),
        metrics: summaries[r.id] ?? {},
      }));
    },
    /** Creates a run, or continues one by id (resume "allow"/"must"), or adopts a job's pre-created run. */
    async init(input: RunInit, opts: { forcedRunId?: string } = {}) {
      const project = await projects.ensure(input.project);
      const id = opts.forcedRunId ?? input.id;
      const existing = id ? await prisma.run.findUnique({ where: { id } }) : null;
      if (existing && existing.projectId !== project.id) throw new AppError("BAD_REQUEST", `run "${id}" belongs to another project`);
      if (!existing && input.resume === "must") throw new AppError("NOT_FOUND", `run "${id ?? ""}" not found and resume is "must"`);
      if (existing && input.resume === "never" && !opts.forcedRunId) throw new AppError("CONFLICT", `run "${id}" already exists; pass resume: "allow" to continue it`);
      const data = {
        name: input.name ?? existing?.name ?? `run-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`,
        status: "running",
        ...(input.config && (input.rank ?? 0) === 0 ? { config: { ...((existing?.config as Json | null) ?? {}), ...input.config } as object } : {}),
        ...(input.environment ? { environment: input.environment as object } : {}),
        ...(input.tags ? { tags: input.tags } : {}),
        ...(input.group ? { group: input.group } : {}),
        ...(input.notes ? { notes: input.notes } : {}),
        ...(input.host ? { host: input.host } : {}),
        heartbeatAt: new Date(),
        finishedAt: null,
      };
      const run = existing
        ? await prisma.run.update({ where: { id: existing.id }, data })
        : await prisma.run.create({ data: { ...data, ...(id ? { id } : {}), projectId: project.id } });
      return { run, project, resumed: !!existing, lastStep: existing ? await lastStep(run.id) : null };
    },
    async createForJob(projectId: string, name: string, config: Json, group: string | null) {
      return prisma.run.create({ data: { projectId, name, status: "running", config: config as object, group } });
    },
    async finish(runId: string, state: "finished" | "crashed" | "aborted", error?: string, summary?: Json) {
      const run = await get(runId);
      const merged = summary ? { ...((run.summary as Json | null) ?? {}), ...summary } : undefined;
      return prisma.run.update({ where: { id: runId }, data: { status: state, error: error ?? null, finishedAt: new Date(), ...(merged ? { summary: merged as object } : {}) } });
    },
    async updateConfig(runId: string, config: Json) {
      const run = await get(runId);
      return prisma.run.update({ where: { id: runId }, data: { config: { ...((run.config as Json | null) ?? {}), ...config } as object } });
    },
    async mergeSummary(runId: string, values: Json) {
      const run = await get(runId);
      return prisma.run.update({ where: { id: runId }, data: { summary: { ...((run.summary as Json | null) ?? {}), ...values } as object } });
    },
    async heartbeat(runId: string) {
      // a run that was marked stale comes back to running when it speaks again
      await prisma.run.updateMany({ where: { id: runId, status: { in: ["running", "stale"] } }, data: { heartbeatAt: new Date(), status: "running" } });
    },
    async rewind(runId: string, step: number) {
      await get(runId);
      return metrics.rewind(runId, step);
    },
    async appendLogs(runId: string, lines: { stream: string; line: string }[]) {
      if (lines.length) await prisma.logLine.createMany({ data: lines.map((l) => ({ runId, stream: l.stream, line: l.line.slice(0, 4000) })) });
    },
    async logs(runId: string, opts: { afterId?: number; limit?: number; search?: string }) {
      return prisma.logLine.findMany({
        where: { runId, ...(opts.afterId ? { id: { gt: opts.afterId } } : {}), ...(opts.search ? { line: { contains: opts.search } } : {}) },
        orderBy: { id: "asc" },
        take: opts.limit ?? 1000,
      });
    },
  };
}
export type RunService = ReturnType<typeof createRunService>;
