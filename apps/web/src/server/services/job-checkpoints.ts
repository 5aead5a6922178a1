import { AppError, type CheckpointCommit, type CheckpointInfo } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import { checkpointsToDrop } from "./run-fork-retention";

/**
 * Checkpoints travel through the server so a requeued attempt can resume on ANOTHER host:
 * the runner uploads each new `ckpt-<step>` folder in chunks (fenced by its lease), commits
 * it, and the next attempt's runner downloads the newest complete one. Stored in the
 * database (not one server's disk) so every server process behind a load balancer sees it.
 * Callers check the fencing token first.
 */
export function createCheckpointStore(prisma: PrismaClient) {
  return {
    async putChunk(jobId: string, attempt: number, step: number, file: string, idx: number, data: Uint8Array) {
      await prisma.jobCheckpoint.upsert({ where: { jobId_step: { jobId, step } }, create: { jobId, step, attempt, files: [] }, update: {} });
      const bytes = new Uint8Array(data);
      await prisma.jobCheckpointChunk.upsert({
        where: { jobId_step_file_idx: { jobId, step, file, idx } },
        create: { jobId, step, file, idx, data: bytes },
        update: { data: bytes },
      });
    },
    /** Marks a fully uploaded checkpoint usable and returns the steps of the ones dropped. */
    async commit(jobId: string, c: CheckpointCommit) {
      const counts = await prisma.jobCheckpointChunk.groupBy({ by: ["file"], where: { jobId, step: c.step }, _count: { _all: true } });
      for (const f of c.files) {
        const have = counts.find((x) => x.file === f.name)?._count._all ?? 0;
        if (have !== f.chunks) throw new AppError("BAD_REQUEST", `checkpoint ${c.step}: file ${f.name} has ${have} of ${f.chunks} chunks uploaded`);
      }
      await prisma.jobCheckpoint.update({ where: { jobId_step: { jobId, step: c.step } }, data: { complete: true, files: c.files } });
      const complete = await prisma.jobCheckpoint.findMany({ where: { jobId, complete: true }, orderBy: { step: "desc" }, select: { step: true } });
      // the newest two (resume) and a few older ones spread over the run (run.fork starts from them)
      const dropped = checkpointsToDrop(complete.map((x) => x.step));
      // incomplete uploads older than the newest complete one are leftovers of dead attempts
      const newest = complete[0]?.step ?? c.step;
      await prisma.jobCheckpoint.deleteMany({ where: { jobId, OR: [{ step: { in: dropped } }, { complete: false, step: { lt: newest } }] } });
      return { newest };
    },
    async latest(jobId: string): Promise<CheckpointInfo | null> {
      const ck = await prisma.jobCheckpoint.findFirst({ where: { jobId, complete: true }, orderBy: { step: "desc" } });
      return ck ? { step: ck.step, files: ck.files as CheckpointInfo["files"] } : null;
    },
    async read(jobId: string, step: number, file: string, idx: number): Promise<Uint8Array> {
      const chunk = await prisma.jobCheckpointChunk.findUnique({ where: { jobId_step_file_idx: { jobId, step, file, idx } } });
      if (!chunk) throw new AppError("NOT_FOUND", `checkpoint ${step} of job ${jobId} has no chunk ${idx} of ${file}`);
      return chunk.data;
    },
  };
}
export type CheckpointStore = ReturnType<typeof createCheckpointStore>;

/**
 * The other jobs whose checkpoint a job's spec starts from: a distill teacher `{runId, jobId}`
 * or a fine-tune base (`jobId` resolved by job.submit). The runner daemon applies the same
 * rule (apps/runner/src/source-checkpoints.ts) to know what to fetch.
 */
export function checkpointSourcesOf(spec: unknown): string[] {
  const s = spec as { kind?: unknown; teacher?: { jobId?: unknown }; base?: { jobId?: unknown } } | null;
  const ref = s?.kind === "distill" ? s.teacher : s?.kind === "finetune" ? s.base : undefined;
  return typeof ref?.jobId === "string" ? [ref.jobId] : [];
}

type Held = { jobId: string; fencingToken: number };

/**
 * Reading ANOTHER job's checkpoint (a teacher/base trained on another host), under the
 * reading job's lease: refused unless the caller holds that lease and the job's spec names
 * the source job, so a runner token cannot read arbitrary jobs' weights.
 */
export function createSourceCheckpointAccess(store: CheckpointStore, assertLease: (runnerId: string, l: Held) => Promise<{ spec: unknown }>) {
  async function authorise(runnerId: string, l: Held & { sourceJobId: string }) {
    const job = await assertLease(runnerId, l);
    if (!checkpointSourcesOf(job.spec).includes(l.sourceJobId))
      throw new AppError("FORBIDDEN", `job ${l.jobId} does not start from job ${l.sourceJobId}: only the teacher/base checkpoint its spec names can be read`);
  }
  return {
    async latest(runnerId: string, l: Held & { sourceJobId: string }) {
      await authorise(runnerId, l);
      return store.latest(l.sourceJobId);
    },
    async read(runnerId: string, l: Held & { sourceJobId: string; step: number; file: string; index: number }) {
      await authorise(runnerId, l);
      return store.read(l.sourceJobId, l.step, l.file, l.index);
    },
  };
}
