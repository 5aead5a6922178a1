import type { PrismaClient } from "@heron/db";
import type { Logger } from "pino";

import type { BlobIndex } from "./artifacts/blob-index";
import { stagedChunkId } from "./job-checkpoints";

type FileEntry = { name: string; bytes: number; chunks: number };

/**
 * Moves checkpoints stored as JobCheckpointChunk rows (before the blob store) into it, once,
 * at startup: each complete checkpoint's files are streamed chunk row by chunk row into blobs
 * and recorded as JobCheckpointFile rows, and only then are its chunk rows deleted; chunks of
 * an incomplete upload move to the staging area where the runner's commit will look for them.
 * Idempotent and safe to interrupt: a checkpoint whose rows are still there is simply moved
 * again (blobs by digest, file rows replaced), so nothing is lost or stored twice. Several
 * server processes starting together may both move one; the outcome is the same.
 */
export async function migrateCheckpointChunks(
  prisma: PrismaClient,
  blobs: BlobIndex,
  log?: Logger,
): Promise<{ moved: number; staged: number; failed: number }> {
  const pending = await prisma.jobCheckpointChunk.groupBy({ by: ["jobId", "step"] });
  let moved = 0;
  let staged = 0;
  let failed = 0;
  for (const { jobId, step } of pending) {
    try {
      if (await moveOne(prisma, blobs, jobId, step)) moved++;
      else staged++;
    } catch (err) {
      // left as it is (still readable from its rows): the next start tries again
      failed++;
      log?.warn({ jobId, step, err: (err as Error).message }, "checkpoint not moved into the blob store");
    }
  }
  if (moved || staged) log?.info({ moved, staged }, "checkpoints moved from database chunks into the blob store");
  return { moved, staged, failed };
}

/** moves one checkpoint; true when it was complete (now blobs), false when its chunks were staged */
async function moveOne(prisma: PrismaClient, blobs: BlobIndex, jobId: string, step: number): Promise<boolean> {
  const ck = await prisma.jobCheckpoint.findUnique({ where: { jobId_step: { jobId, step } } });
  if (ck?.complete) {
    const files = ck.files as FileEntry[];
    const stored: { name: string; digest: string; bytes: number }[] = [];
    for (const f of files) {
      const b = await blobs.put(chunkRows(prisma, jobId, step, f), { bytes: f.bytes });
      stored.push({ name: f.name, digest: b.digest, bytes: b.bytes });
    }
    await prisma.$transaction(async (tx) => {
      await tx.jobCheckpointFile.deleteMany({ where: { jobId, step } });
      await tx.jobCheckpointFile.createMany({ data: stored.map((f) => ({ jobId, step, ...f })) });
      await tx.jobCheckpointChunk.deleteMany({ where: { jobId, step } });
    });
    return true;
  }
  // an upload in progress when the server stopped: its runner will commit it (or never)
  const rows = await prisma.jobCheckpointChunk.findMany({ where: { jobId, step }, select: { file: true, idx: true } });
  for (const r of rows) {
    const c = await prisma.jobCheckpointChunk.findUnique({ where: { jobId_step_file_idx: { jobId, step, file: r.file, idx: r.idx } } });
    if (!c) continue;
    const id = stagedChunkId(jobId, step, r.file, r.idx);
    await blobs.store.uploads.abort(id);
    await blobs.store.uploads.writeAt(id, 0, c.data);
  }
  await prisma.jobCheckpointChunk.deleteMany({ where: { jobId, step } });
  return false;
}

/** one file's chunk rows in order, one row in memory at a time; a missing or short row stops the move */
async function* chunkRows(prisma: PrismaClient, jobId: string, step: number, f: FileEntry): AsyncIterable<Uint8Array> {
  for (let idx = 0; idx < f.chunks; idx++) {
    const c = await prisma.jobCheckpointChunk.findUnique({ where: { jobId_step_file_idx: { jobId, step, file: f.name, idx } } });
    if (!c) throw new Error(`checkpoint ${step} of job ${jobId}: chunk ${idx} of ${f.name} is missing; left in the database`);
    yield c.data;
  }
}
