import { AppError, type PipelineSpec, stageJobSpec } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { Notifier } from "./notifier";

/** what a transaction (or the client itself) offers the pipeline's writes */
export type PipelineTx = Pick<PrismaClient, "job" | "jobEvent">;

/** a stage job as the queue's writes know it */
export type StageRow = { id: string; pipelineJobId: string | null; stageIndex: number | null; stageName: string | null };

const ENDED = ["succeeded", "failed", "cancelled"];

/**
 * Interactive transactions that end a stage and advance its pipeline: a few short writes, but
 * on a loaded host (or a busy SQLite file) waiting Prisma's default 2 s for a connection and
 * 5 s overall would refuse a runner's report, so the stage would rerun after its lease expired.
 */
export const STAGE_TX = { maxWait: 30_000, timeout: 30_000 };

export type PipelineSubmit = {
  projectId: string;
  queue: string;
  priority: number;
  maxAttempts: number;
  group: string | null;
  submittedBy: string | null;
  /** what the pipeline row keeps as its spec (a `vlm` recipe keeps the recipe, for display) */
  shownSpec: object;
};

/**
 * Pipelines: a job of kind "pipeline" (never leased by runners) and one job per stage,
 * created together. Stage 0 is queued; the others wait (status "waiting", which the claim
 * never takes) and each is queued by the same transaction that records its predecessor's
 * success — so with several server processes exactly one next stage is queued. A failed or
 * cancelled stage ends the pipeline and cancels the stages after it. The pipeline's own
 * status follows its stages: queued → running (a stage started) → succeeded / failed / cancelled.
 */
export function createPipelineService(prisma: PrismaClient, notifier: Notifier) {
  async function event(tx: PipelineTx, jobId: string, type: string, message: string) {
    await tx.jobEvent.create({ data: { jobId, type, attempt: 0, message } });
  }

  /** ends the pipeline (if it still runs) and cancels its stages that have not started */
  async function stop(tx: PipelineTx, pipelineJobId: string, status: "failed" | "cancelled", reason: string) {
    const now = new Date();
    const p = await tx.job.updateMany({
      where: { id: pipelineJobId, status: { in: ["queued", "running"] } },
      data: { status, finishedAt: now, error: status === "failed" ? reason.slice(-100_000) : null },
    });
    if (p.count) await event(tx, pipelineJobId, status, reason.slice(-4000));
    const rest = await tx.job.findMany({ where: { pipelineJobId, status: { in: ["waiting", "queued"] } }, select: { id: true } });
    for (const s of rest) {
      const u = await tx.job.updateMany({ where: { id: s.id, status: { in: ["waiting", "queued"] } }, data: { status: "cancelled", finishedAt: now } });
      if (u.count) await event(tx, s.id, "cancelled", `never ran: ${reason.slice(-4000)}`);
    }
  }

  return {
    /** Creates the pipeline's job and one job per stage; returns the pipeline job and the stages' ids. */
    async submit(spec: PipelineSpec, o: PipelineSubmit) {
      const group = o.group ?? `pipeline-${spec.name ?? "stages"}-${Date.now().toString(36)}`.slice(0, 200);
      const created = await prisma.$transaction(async (tx) => {
        const pipeline = await tx.job.create({
          data: {
            projectId: o.projectId,
            spec: o.shownSpec,
            kind: "pipeline",
            queue: o.queue,
            priority: o.priority,
            maxAttempts: o.maxAttempts,
            group,
            submittedBy: o.submittedBy,
          },
        });
        const stageIds: string[] = [];
        for (const [i, stage] of spec.stages.entries()) {
          const jobSpec = stageJobSpec(spec, i, stageIds);
          const job = await tx.job.create({
            data: {
              projectId: o.projectId,
              spec: jobSpec as object,
              kind: jobSpec.kind,
              queue: o.queue,
              priority: o.priority,
              maxAttempts: o.maxAttempts,
              group,
              submittedBy: o.submittedBy,
              status: i === 0 ? "queued" : "waiting",
              pipelineJobId: pipeline.id,
              stageIndex: i,
              stageName: stage.name,
            },
          });
          stageIds.push(job.id);
          await event(
            tx,
            job.id,
            i === 0 ? "queued" : "waiting",
            i === 0 ? `stage ${stage.name} of pipeline ${pipeline.id}` : `waits for stage ${spec.stages[i - 1]!.name}`,
          );
        }
        await event(
          tx,
          pipeline.id,
          "queued",
          `${spec.stages.length} stage${spec.stages.length === 1 ? "" : "s"}: ${spec.stages.map((s) => s.name).join(" → ")}`,
        );
        return { pipeline, stageIds, group };
      }, STAGE_TX);
      notifier.workAvailable();
      return created;
    },

    /** a stage's process started: the pipeline is running */
    async stageStarted(stage: StageRow) {
      if (!stage.pipelineJobId) return;
      const u = await prisma.job.updateMany({ where: { id: stage.pipelineJobId, status: "queued" }, data: { status: "running", startedAt: new Date() } });
      if (u.count) await event(prisma, stage.pipelineJobId, "running", `stage ${stage.stageName ?? stage.stageIndex} started`);
    },

    /**
     * A stage ended (`status` as just written by the caller's guarded update, in the same
     * transaction `tx`): queue the next stage, or end the pipeline.
     */
    async stageEnded(tx: PipelineTx, stage: StageRow, status: string, error: string | null) {
      const pipelineJobId = stage.pipelineJobId;
      if (!pipelineJobId || stage.stageIndex === null) return;
      const name = stage.stageName ?? String(stage.stageIndex);
      if (status === "failed") return stop(tx, pipelineJobId, "failed", `stage ${name} failed: ${error?.trim() || "no error message"}`);
      if (status === "cancelled") return stop(tx, pipelineJobId, "cancelled", `stage ${name} was cancelled`);
      if (status !== "succeeded") return;
      const next = await tx.job.findFirst({ where: { pipelineJobId, stageIndex: stage.stageIndex + 1 }, select: { id: true, stageName: true } });
      if (!next) {
        const p = await tx.job.updateMany({
          where: { id: pipelineJobId, status: { in: ["queued", "running"] } },
          data: { status: "succeeded", finishedAt: new Date() },
        });
        if (p.count) await event(tx, pipelineJobId, "succeeded", `last stage ${name} succeeded`);
        return;
      }
      // guarded: only a waiting stage is queued (a cancelled pipeline's stages stay cancelled)
      const u = await tx.job.updateMany({ where: { id: next.id, status: "waiting" }, data: { status: "queued" } });
      if (u.count) await event(tx, next.id, "queued", `stage ${name} succeeded; this stage starts from it on any runner`);
    },

    /** Cancels the pipeline: stages not started never start, the running one is asked to stop. */
    async cancel(pipelineJobId: string) {
      const pipeline = await prisma.job.findUnique({ where: { id: pipelineJobId }, select: { status: true, kind: true } });
      if (!pipeline || pipeline.kind !== "pipeline") throw new AppError("NOT_FOUND", `pipeline job "${pipelineJobId}" not found`);
      if (ENDED.includes(pipeline.status))
        throw new AppError("CONFLICT", `pipeline ${pipelineJobId} is ${pipeline.status}; only a queued or running pipeline can be cancelled`);
      await prisma.$transaction((tx) => stop(tx, pipelineJobId, "cancelled", "the pipeline was cancelled"), STAGE_TX);
      const running = await prisma.job.findMany({ where: { pipelineJobId, status: "running" }, select: { id: true, runnerId: true, attempts: true } });
      for (const s of running) {
        const u = await prisma.job.updateMany({ where: { id: s.id, status: "running" }, data: { cancelRequested: true } });
        if (!u.count) continue;
        await prisma.jobEvent.create({ data: { jobId: s.id, type: "cancel-requested", attempt: s.attempts, message: "the pipeline was cancelled" } });
        if (s.runnerId) notifier.cancelJob(s.runnerId, s.id);
      }
    },

    /** every stage of a pipeline, in order */
    async stages(pipelineJobId: string) {
      return prisma.job.findMany({
        where: { pipelineJobId },
        orderBy: { stageIndex: "asc" },
        select: {
          id: true,
          stageName: true,
          stageIndex: true,
          status: true,
          runId: true,
          kind: true,
          attempts: true,
          error: true,
          startedAt: true,
          finishedAt: true,
        },
      });
    },
  };
}
export type PipelineService = ReturnType<typeof createPipelineService>;
