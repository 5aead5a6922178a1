import crypto from "node:crypto";

import { AppError, CHECKPOINT_CHUNK_BYTES, type CheckpointCommit, type CheckpointInfo, CheckpointManifestSchema } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { BlobIndex } from "./artifacts/blob-index";
import { checkpointsToDrop } from "./run-fork-retention";

/** where a chunk waits until its checkpoint is committed (the blob store's upload area) */
export function stagedChunkId(jobId: string, step: number, file: string, idx: number): string {
  return `ck_${crypto.createHash("sha256").update(`${jobId}\0${step}\0${file}`).digest("hex").slice(0, 40)}_${idx}`;
}

const chunksOf = (bytes: number) => Math.max(1, Math.ceil(bytes / CHECKPOINT_CHUNK_BYTES));

/** the checkpoint's manifest (tensor names and shapes, references to excluded frozen tensors) */
const MANIFEST = "manifest.json";
/** a manifest larger than this is not parsed for a listing (names are small; weights are not) */
const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

type StoredFile = { name: string; bytes: number; chunks?: number };

/**
 * Checkpoints travel through the server so a requeued attempt can resume on ANOTHER host:
 * the runner uploads each new `ckpt-<step>` folder in chunks (fenced by its lease), commits
 * it, and the next attempt's runner downloads the newest complete one, chunk by chunk.
 * Chunks wait in the blob store's upload area (any server process, one shared volume); the
 * commit joins each file's chunks into one blob (by SHA-256: an unchanged file — a model's
 * topology — is stored once across checkpoints, jobs and forks) and records the checkpoint's
 * files as JobCheckpointFile rows. Dropped checkpoints release their blobs to collection.
 * Checkpoints from before the blob store (JobCheckpointChunk rows) are moved at startup
 * (job-checkpoint-migration.ts) and read from their rows until then. Callers check the
 * fencing token first.
 */
// Long because it is the store's four operations over one staging scheme.
export function createCheckpointStore(prisma: PrismaClient, blobs: BlobIndex) {
  const staging = blobs.store.uploads;

  /** one file's staged chunks, in order, as one stream (each chunk checked for its size) */
  async function* joined(jobId: string, step: number, f: { name: string; bytes: number }) {
    const n = chunksOf(f.bytes);
    for (let idx = 0; idx < n; idx++) {
      const id = stagedChunkId(jobId, step, f.name, idx);
      const want = idx < n - 1 ? CHECKPOINT_CHUNK_BYTES : f.bytes - CHECKPOINT_CHUNK_BYTES * (n - 1);
      const have = await staging.offset(id);
      if (have !== want)
        throw new AppError(
          "BAD_REQUEST",
          `checkpoint ${step}: chunk ${idx} of ${f.name} ${have === null ? "was not uploaded" : `has ${have} bytes, not ${want}`}`,
        );
      yield* staging.read(id);
    }
  }

  /** a checkpoint's manifest, read chunk by chunk through `read` (so also before the blob migration) */
  async function readManifest(jobId: string, step: number, file: { bytes: number } | undefined) {
    if (!file || file.bytes > MANIFEST_MAX_BYTES) return null;
    try {
      const parts: Uint8Array[] = [];
      for (let idx = 0; idx < chunksOf(file.bytes); idx++) parts.push(await store.read(jobId, step, MANIFEST, idx));
      const parsed = CheckpointManifestSchema.safeParse(JSON.parse(Buffer.concat(parts).toString("utf8")));
      return parsed.success ? parsed.data : null;
    } catch {
      return null; // unreadable or not JSON: the listing still shows the files
    }
  }

  const store = {
    async putChunk(jobId: string, attempt: number, step: number, file: string, idx: number, data: Uint8Array) {
      await prisma.jobCheckpoint.upsert({ where: { jobId_step: { jobId, step } }, create: { jobId, step, attempt, files: [] }, update: {} });
      const id = stagedChunkId(jobId, step, file, idx);
      // a resent chunk replaces the one before (a shorter last chunk must not keep old bytes)
      await staging.abort(id);
      await staging.writeAt(id, 0, data);
    },
    /** Makes a fully uploaded checkpoint usable (the newest), drops the ones the retention policy lets go. */
    async commit(jobId: string, c: CheckpointCommit) {
      const stored: { name: string; digest: string; bytes: number }[] = [];
      for (const f of c.files) {
        if (f.chunks !== chunksOf(f.bytes))
          throw new AppError("BAD_REQUEST", `checkpoint ${c.step}: file ${f.name} of ${f.bytes} bytes has ${chunksOf(f.bytes)} chunks, not ${f.chunks}`);
        const b = await blobs.put(joined(jobId, c.step, f), { bytes: f.bytes });
        stored.push({ name: f.name, digest: b.digest, bytes: b.bytes });
      }
      await prisma.$transaction(async (tx) => {
        await tx.jobCheckpoint.upsert({
          where: { jobId_step: { jobId, step: c.step } },
          create: { jobId, step: c.step, attempt: 0, complete: true, files: c.files },
          update: { complete: true, files: c.files },
        });
        await tx.jobCheckpointFile.deleteMany({ where: { jobId, step: c.step } });
        await tx.jobCheckpointFile.createMany({ data: stored.map((f) => ({ jobId, step: c.step, ...f })) });
      });
      for (const f of c.files) for (let idx = 0; idx < f.chunks; idx++) await staging.abort(stagedChunkId(jobId, c.step, f.name, idx));
      const complete = await prisma.jobCheckpoint.findMany({ where: { jobId, complete: true }, orderBy: { step: "desc" }, select: { step: true } });
      // the newest two (resume) and a few older ones spread over the run (run.fork starts from them)
      const dropped = checkpointsToDrop(complete.map((x) => x.step));
      // incomplete uploads older than the newest complete one are leftovers of dead attempts
      const newest = complete[0]?.step ?? c.step;
      const gone = { jobId, OR: [{ step: { in: dropped } }, { complete: false, step: { lt: newest } }] };
      const goneSteps = (await prisma.jobCheckpoint.findMany({ where: gone, select: { step: true } })).map((x) => x.step);
      const released = await prisma.jobCheckpointFile.findMany({ where: { jobId, step: { in: goneSteps } }, select: { digest: true } });
      await prisma.jobCheckpoint.deleteMany({ where: gone });
      if (released.length) await blobs.collect({ candidates: [...new Set(released.map((r) => r.digest))], graceMs: blobs.graceMs });
      return { newest };
    },
    async latest(jobId: string): Promise<CheckpointInfo | null> {
      const ck = await prisma.jobCheckpoint.findFirst({ where: { jobId, complete: true }, orderBy: { step: "desc" } });
      return ck ? { step: ck.step, files: ck.files as CheckpointInfo["files"] } : null;
    },
    /**
     * Every complete checkpoint of a job, oldest first: its files and bytes, and from its
     * manifest the tensor names (null when the checkpoint has no readable manifest) and the
     * frozen tensors left out of it, each with the `{jobId, step}` checkpoint that holds it.
     */
    async list(jobId: string) {
      const cks = await prisma.jobCheckpoint.findMany({ where: { jobId, complete: true }, orderBy: { step: "asc" } });
      const out = [];
      for (const ck of cks) {
        const files = (ck.files as StoredFile[]).map((f) => ({ name: f.name, bytes: f.bytes }));
        const manifest = await readManifest(
          jobId,
          ck.step,
          files.find((f) => f.name === MANIFEST),
        );
        out.push({
          step: ck.step,
          attempt: ck.attempt,
          createdAt: ck.createdAt,
          files,
          bytes: files.reduce((n, f) => n + f.bytes, 0),
          tensors: manifest ? manifest.tensors.map((t) => t.name) : null,
          excludedFrozen: manifest ? manifest.tensors.flatMap((t) => (t.ref ? [{ name: t.name, jobId: t.ref.jobId, step: t.ref.step }] : [])) : null,
        });
      }
      return out;
    },
    /** One chunk (≤ CHECKPOINT_CHUNK_BYTES) of a stored checkpoint file, read from its blob. */
    async read(jobId: string, step: number, file: string, idx: number): Promise<Uint8Array> {
      const f = await prisma.jobCheckpointFile.findUnique({ where: { jobId_step_name: { jobId, step, name: file } } });
      if (!f) {
        // not moved into the blob store yet (the startup migration runs once per database)
        const chunk = await prisma.jobCheckpointChunk.findUnique({ where: { jobId_step_file_idx: { jobId, step, file, idx } } });
        if (!chunk) throw new AppError("NOT_FOUND", `checkpoint ${step} of job ${jobId} has no chunk ${idx} of ${file}`);
        return chunk.data;
      }
      const start = idx * CHECKPOINT_CHUNK_BYTES;
      if (idx >= chunksOf(f.bytes)) throw new AppError("NOT_FOUND", `checkpoint ${step} of job ${jobId} has no chunk ${idx} of ${file}`);
      const end = Math.min(f.bytes, start + CHECKPOINT_CHUNK_BYTES);
      const out = Buffer.allocUnsafe(end - start);
      let at = 0;
      if (end > start) for await (const piece of await blobs.open(f.digest, { start, end: end - 1 })) at += (piece as Buffer).copy(out, at);
      if (at !== out.length) throw new AppError("NOT_FOUND", `checkpoint ${step} of job ${jobId}: the blob of ${file} is shorter than recorded`);
      return out;
    },
  };
  return store;
}
export type CheckpointStore = ReturnType<typeof createCheckpointStore>;

/**
 * The other jobs whose checkpoint a job's spec starts from: a distill teacher `{runId, jobId}`
 * or a fine-tune base (`jobId` resolved by job.submit), and for a pipeline stage `init.jobId`
 * and `init.sources` (every earlier stage: frozen tensors left out of a checkpoint point into
 * them; set only by the server when it creates the stage jobs). The runner daemon applies the
 * same rule (apps/runner/src/source-checkpoints.ts) to know what to fetch.
 */
export function checkpointSourcesOf(spec: unknown): string[] {
  const s = spec as { kind?: unknown; teacher?: { jobId?: unknown }; base?: { jobId?: unknown }; init?: { jobId?: unknown; sources?: unknown } } | null;
  const ref = s?.kind === "distill" ? s.teacher : s?.kind === "finetune" ? s.base : undefined;
  const ids = [ref?.jobId, s?.init?.jobId, ...(Array.isArray(s?.init?.sources) ? (s.init.sources as unknown[]) : [])];
  return [...new Set(ids.filter((x): x is string => typeof x === "string"))];
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
