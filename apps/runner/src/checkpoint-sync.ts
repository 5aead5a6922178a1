// Moves checkpoint folders (`<checkpointDir>/ckpt-<step>/…`, written by the job) between this
// runner's HERON_HOME and the server, so a requeued attempt resumes on ANY host: the newest
// complete folder is uploaded while the job runs and when it stops; a new attempt downloads
// the server's newest one when its local folder lacks it.
import fs from "node:fs";
import path from "node:path";

import {
  type AckSchema,
  CHECKPOINT_CHUNK_BYTES,
  type CheckpointInfo,
  CheckpointLatestAckSchema,
  CheckpointReadAckSchema,
  EmptyAckSchema,
  parseAck,
  type PayloadOf,
  PROTOCOL_VERSION,
  type RunnerToServer,
} from "@heron/core";
import { latestCheckpointStep, listCheckpointSteps } from "@heron/core/node";

import { containedPath } from "./contained-path";

/** sends one event and resolves with the server's raw, unchecked ack */
export type Emit = <E extends keyof RunnerToServer>(event: E, payload: PayloadOf<RunnerToServer, E>) => Promise<unknown>;
type Held = { jobId: string; fencingToken: number };

/** complete checkpoint folders, newest last (the listing jobs resume from) */
export const listLocalCheckpoints = listCheckpointSteps;

/** Step of the newest complete local checkpoint, or null. */
export const latestLocalStep = latestCheckpointStep;

/**
 * The server refused for good — the lease is gone (a newer attempt owns the job) or the
 * source is not one this job may read — as opposed to a failure a retry may get past.
 */
export function isRefusal(err: Error): boolean {
  return /stale fencing token|does not hold|does not start from/.test(err.message);
}

/** the ack checked against its schema; a refusal or a malformed answer throws */
const must = <T extends { ok: true }>(schema: AckSchema<T>, raw: unknown, what: string): T => {
  const a = parseAck(schema, raw);
  if (!a.ok) throw new Error(`${what}: ${a.error}`);
  return a;
};

/** Uploads one checkpoint folder in chunks, then commits it (both fenced by the lease). */
export async function uploadCheckpoint(emit: Emit, lease: Held, dir: string, name: string, step: number): Promise<void> {
  const folder = path.join(dir, name);
  const files: CheckpointInfo["files"] = [];
  for (const file of fs.readdirSync(folder).sort()) {
    const buf = fs.readFileSync(path.join(folder, file));
    const chunks = Math.max(1, Math.ceil(buf.byteLength / CHECKPOINT_CHUNK_BYTES));
    for (let i = 0; i < chunks; i++) {
      const data = buf.subarray(i * CHECKPOINT_CHUNK_BYTES, (i + 1) * CHECKPOINT_CHUNK_BYTES);
      must(EmptyAckSchema, await emit("job:checkpoint:chunk", { v: PROTOCOL_VERSION, ...lease, step, file, index: i, data }), `upload of ${name}/${file}`);
    }
    files.push({ name: file, bytes: buf.byteLength, chunks });
  }
  must(EmptyAckSchema, await emit("job:checkpoint:commit", { v: PROTOCOL_VERSION, ...lease, step, files }), `commit of ${name}`);
}

/**
 * Makes the server's newest checkpoint available locally (no-op when this host already has
 * it or a newer one). Returns the step downloaded, or null. With `sourceJobId`, fetches
 * another job's checkpoint that this job starts from (a teacher or fine-tune base), still
 * under this job's lease: the server checks that this job's spec references it.
 */
export async function downloadLatestCheckpoint(emit: Emit, lease: Held, dir: string, sourceJobId?: string): Promise<number | null> {
  const ask = { v: PROTOCOL_VERSION, ...lease };
  const latest = () => (sourceJobId ? emit("job:source-checkpoint:latest", { ...ask, sourceJobId }) : emit("job:checkpoint:latest", ask));
  const read = (part: { step: number; file: string; index: number }) =>
    sourceJobId ? emit("job:source-checkpoint:read", { ...ask, ...part, sourceJobId }) : emit("job:checkpoint:read", { ...ask, ...part });
  const info = must(CheckpointLatestAckSchema, await latest(), "checkpoint lookup").checkpoint;
  if (!info) return null;
  const local = latestLocalStep(dir);
  if (local !== null && local >= info.step) return null;
  const name = `ckpt-${String(info.step).padStart(9, "0")}`;
  // unique per download: two jobs of this daemon may fetch the same teacher at once
  const tmp = containedPath(dir, `${name}.download-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    for (const f of info.files) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < f.chunks; i++) {
        parts.push(must(CheckpointReadAckSchema, await read({ step: info.step, file: f.name, index: i }), `download of ${name}/${f.name}`).data);
      }
      const buf = Buffer.concat(parts);
      if (buf.byteLength !== f.bytes) throw new Error(`download of ${name}/${f.name}: got ${buf.byteLength} bytes, expected ${f.bytes}`);
      fs.writeFileSync(containedPath(tmp, f.name), buf);
    }
    // renamed only when complete, so a crash mid-download never leaves a half checkpoint;
    // a complete folder of the same step that appeared meanwhile holds the same bytes: kept
    const final = containedPath(dir, name);
    if (!fs.existsSync(path.join(final, "meta.json"))) {
      fs.rmSync(final, { recursive: true, force: true });
      try {
        fs.renameSync(tmp, final);
      } catch (err) {
        if (!fs.existsSync(path.join(final, "meta.json"))) throw err;
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return info.step;
}

/** Uploads the newest local checkpoint when it is newer than the last one uploaded. */
export class CheckpointUploader {
  private lastStep: number;
  private busy: Promise<void> = Promise.resolve();
  private fenced = false;

  constructor(
    private readonly emit: Emit,
    private readonly lease: Held,
    private readonly dir: string,
    /** the step the server already holds (downloaded or resumed from): not uploaded again */
    alreadyStored: number | null,
    private readonly onError: (err: Error) => void,
  ) {
    this.lastStep = alreadyStored ?? -1;
  }

  /** Serialised: a tick while an upload runs waits for it instead of uploading twice. */
  sync(): Promise<void> {
    this.busy = this.busy.then(async () => {
      const newest = listLocalCheckpoints(this.dir).at(-1);
      if (!newest || newest.step <= this.lastStep) return;
      try {
        await uploadCheckpoint(this.emit, this.lease, this.dir, newest.name, newest.step);
        this.lastStep = newest.step;
      } catch (err) {
        // the job keeps its local checkpoint; the next tick (or the final sync) tries again —
        // unless the lease is gone: a newer attempt owns the job and no retry can succeed
        this.fenced = isRefusal(err as Error);
        this.onError(err as Error);
      }
    });
    return this.busy;
  }

  /** true while this host has a newer complete checkpoint than the server */
  behind(): boolean {
    return (listLocalCheckpoints(this.dir).at(-1)?.step ?? -1) > this.lastStep;
  }

  /**
   * The last upload when the job has ended: retried (1, 2, 4, 8 s) rather than given up after
   * one failure, because the final checkpoint is what a distill/finetune job referencing
   * this run will download, and what a requeued attempt resumes from.
   */
  async syncFinal(retries = 4): Promise<void> {
    for (let i = 0; ; i++) {
      await this.sync();
      if (!this.behind() || this.fenced || i >= retries) return;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** i));
    }
  }
}
