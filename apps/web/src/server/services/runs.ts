import { AppError, isRankSeries, isSystemKey, redactEnvironment, type RunInit, type RunLog } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";

import type { ProjectService } from "./projects";

type Json = Record<string, unknown>;
const FINAL_STATES = ["finished", "crashed", "aborted"];
/** a run silent for this long is shown `stale` (never a final state: it may come back) */
export const STALE_AFTER_MS = 2 * 60_000;

/** Runs: created by the SDK's init (or by a job claim), finished by the SDK or the runner. */
// Long because it is one object literal: the run operations (init, finish, records, reads,
// rewind, stale sweep …), each short, sharing the prisma client and the metrics store.
export function createRunService(prisma: PrismaClient, metrics: MetricsStore, projects: ProjectService) {
  async function get(runId: string) {
    const run = await prisma.run.findUnique({ where: { id: runId }, include: { project: { select: { name: true } } } });
    if (!run) throw new AppError("NOT_FOUND", `run "${runId}" not found`);
    return run;
  }

  async function lastStep(runId: string): Promise<number | null> {
    const summary = (await metrics.summaries([runId]))[runId] ?? {};
    // sys/… series are stepped in seconds since start, not training steps: a resumed run must
    // continue after its last training step, not jump to its age in seconds
    const steps = Object.entries(summary)
      .filter(([key]) => !isSystemKey(key))
      .map(([, s]) => s.lastStep ?? -1);
    return steps.length ? Math.max(...steps) : null;
  }

  // runs this process marked stale: the next batch or heartbeat of one brings it back at once
  // (without a database read per batch for all the others)
  const staleRuns = new Set<string>();

  return {
    get,
    lastStep,
    /** true when the run was stale and is running again */
    async revive(runId: string): Promise<boolean> {
      if (!staleRuns.delete(runId)) return false;
      const { count } = await prisma.run.updateMany({ where: { id: runId, status: "stale" }, data: { status: "running", heartbeatAt: new Date() } });
      return count > 0;
    },
    /** Creates a run, or continues one by id (resume "allow"/"must"), or adopts a job's pre-created run. */
    async init(input: RunInit, opts: { forcedRunId?: string } = {}) {
      const project = await projects.ensure(input.project);
      const id = opts.forcedRunId ?? input.id;
      const existing = id ? await prisma.run.findUnique({ where: { id } }) : null;
      if (existing && existing.projectId !== project.id) throw new AppError("BAD_REQUEST", `run "${id}" belongs to another project`);
      if (!existing && input.resume === "must") throw new AppError("NOT_FOUND", `run "${id ?? ""}" not found and resume is "must"`);
      if (existing && input.resume === "never" && !opts.forcedRunId)
        throw new AppError("CONFLICT", `run "${id}" already exists; pass resume: "allow" to continue it`);
      // `heron sync` of a run that already ended keeps its end; a live client is running again
      const keepEnd = !!input.sync && !!existing && FINAL_STATES.includes(existing.status);
      const data = {
        name: input.name ?? existing?.name ?? `run-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`,
        ...(keepEnd ? {} : { status: "running", finishedAt: null }),
        ...(input.config && (input.rank ?? 0) === 0 ? { config: { ...((existing?.config as Json | null) ?? {}), ...input.config } as object } : {}),
        // whatever client sent it: credentials in argv / git remotes are never stored or shown
        ...(input.environment ? { environment: redactEnvironment(input.environment) as object } : {}),
        ...(input.tags ? { tags: input.tags } : {}),
        ...(input.group ? { group: input.group } : {}),
        ...(input.notes ? { notes: input.notes } : {}),
        ...(input.host ? { host: input.host } : {}),
        heartbeatAt: new Date(),
      };
      const run = existing
        ? await prisma.run.update({ where: { id: existing.id }, data })
        : await prisma.run.create({
            data: { ...data, ...(id ? { id } : {}), ...(input.startedAt ? { createdAt: new Date(input.startedAt) } : {}), projectId: project.id },
          });
      return { run, project, resumed: !!existing, lastStep: existing ? await lastStep(run.id) : null };
    },
    async finish(runId: string, state: "finished" | "crashed" | "aborted", error?: string, summary?: Json) {
      const run = await get(runId);
      const merged = summary ? { ...((run.summary as Json | null) ?? {}), ...summary } : undefined;
      return prisma.run.update({
        where: { id: runId },
        data: { status: state, error: error ?? null, finishedAt: new Date(), ...(merged ? { summary: merged as object } : {}) },
      });
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
    /**
     * Everything in an SDK batch besides its points (which go through ingest). Each part is
     * idempotent, so a batch replayed after a crash between this and the ack changes nothing:
     * texts and images by (run, key, step), log lines by (run, writer, seq).
     */
    /** `rank`: the writer's rank — its rewind cuts that rank's series only (see isRankSeries) */
    async applyRecords(batch: RunLog, rank = 0) {
      const runId = batch.runId;
      if (batch.rewind) await metrics.rewind(runId, batch.rewind.step, (key) => isRankSeries(key, rank));
      for (const t of batch.texts ?? []) {
        const data = { rows: t.rows as object[], ts: new Date(t.ts) };
        await prisma.textSample.upsert({
          where: { runId_key_step: { runId, key: t.key, step: t.step } },
          create: { runId, key: t.key, step: t.step, ...data },
          update: data,
        });
      }
      for (const m of batch.images ?? []) {
        const data = { caption: m.caption ?? null, width: m.width, height: m.height, png: Buffer.from(m.png), ts: new Date(m.ts) };
        await prisma.media.upsert({
          where: { runId_key_step: { runId, key: m.key, step: m.step } },
          create: { runId, key: m.key, step: m.step, ...data },
          update: data,
        });
      }
      if (batch.logs?.length) {
        const seen = await prisma.logLine.count({ where: { runId, writer: batch.writer, seq: batch.seq } });
        if (!seen)
          await prisma.logLine.createMany({
            data: batch.logs.map((l) => ({ runId, stream: l.stream, line: l.line.slice(0, 4000), ts: new Date(l.ts), writer: batch.writer, seq: batch.seq })),
          });
      }
      if (batch.config || batch.environment) {
        const run = await get(runId);
        await prisma.run.update({
          where: { id: runId },
          data: {
            ...(batch.config ? { config: { ...((run.config as Json | null) ?? {}), ...batch.config } as object } : {}),
            ...(batch.environment ? { environment: { ...((run.environment as Json | null) ?? {}), ...redactEnvironment(batch.environment) } as object } : {}),
          },
        });
      }
    },
    async texts(runId: string, opts: { key?: string; afterStep?: number; limit?: number }) {
      return prisma.textSample.findMany({
        where: { runId, ...(opts.key ? { key: opts.key } : {}), ...(opts.afterStep !== undefined ? { step: { gt: opts.afterStep } } : {}) },
        orderBy: [{ key: "asc" }, { step: "asc" }],
        take: opts.limit ?? 500,
      });
    },
    /** images without their bytes (those come one at a time from mediaData) */
    async media(runId: string, opts: { key?: string; limit?: number }) {
      return prisma.media.findMany({
        where: { runId, ...(opts.key ? { key: opts.key } : {}) },
        select: { id: true, key: true, step: true, caption: true, width: true, height: true, ts: true },
        orderBy: [{ key: "asc" }, { step: "asc" }],
        take: opts.limit ?? 500,
      });
    },
    async mediaData(runId: string, id: number) {
      const m = await prisma.media.findFirst({ where: { id, runId } });
      if (!m) throw new AppError("NOT_FOUND", `image ${id} of run "${runId}" not found`);
      return { id: m.id, key: m.key, step: m.step, mime: "image/png", base64: Buffer.from(m.png).toString("base64") };
    },
    /** running runs silent for STALE_AFTER_MS → stale; returns their ids */
    async markStale(now = Date.now(), staleAfterMs = STALE_AFTER_MS) {
      const cutoff = new Date(now - staleAfterMs);
      const where = { status: "running", OR: [{ heartbeatAt: { lt: cutoff } }, { heartbeatAt: null, createdAt: { lt: cutoff } }] };
      const runs = await prisma.run.findMany({ where, select: { id: true } });
      if (runs.length) await prisma.run.updateMany({ where: { id: { in: runs.map((r) => r.id) }, ...where }, data: { status: "stale" } });
      for (const r of runs) staleRuns.add(r.id);
      return runs.map((r) => r.id);
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
