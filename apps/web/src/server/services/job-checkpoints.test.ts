// Job checkpoints in the blob store: chunks staged and joined into blobs, read back by chunk,
// deduplicated across checkpoints, released to collection when dropped; and the startup move
// of checkpoints kept as database chunk rows by earlier versions.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CHECKPOINT_CHUNK_BYTES } from "@heron/core";
import { type Database, openDatabase } from "@heron/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openBlobIndex } from "./artifacts";
import type { BlobIndex } from "./artifacts/blob-index";
import { migrateCheckpointChunks } from "./job-checkpoint-migration";
import { createCheckpointStore } from "./job-checkpoints";

const sha = (b: Uint8Array) => crypto.createHash("sha256").update(b).digest("hex");
const chunked = (b: Buffer) =>
  Array.from({ length: Math.max(1, Math.ceil(b.length / CHECKPOINT_CHUNK_BYTES)) }, (_, i) =>
    b.subarray(i * CHECKPOINT_CHUNK_BYTES, (i + 1) * CHECKPOINT_CHUNK_BYTES),
  );

function blobFiles(home: string): string[] {
  const root = path.join(home, "blobs");
  return fs
    .readdirSync(root)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((a) => fs.readdirSync(path.join(root, a)).flatMap((b) => fs.readdirSync(path.join(root, a, b))))
    .sort();
}

describe("job checkpoints in the blob store", () => {
  let home: string;
  let db: Database;
  let blobs: BlobIndex;
  let n = 0;

  async function newJob(): Promise<string> {
    const project = await db.prisma.project.upsert({ where: { name: "ck" }, create: { name: "ck" }, update: {} });
    const job = await db.prisma.job.create({ data: { projectId: project.id, kind: "train", spec: { kind: "train" }, queue: `q${n++}` } });
    return job.id;
  }

  async function readAll(store: ReturnType<typeof createCheckpointStore>, jobId: string, step: number, name: string, chunks: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < chunks; i++) parts.push(Buffer.from(await store.read(jobId, step, name, i)));
    return Buffer.concat(parts);
  }

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-ck-"));
    db = await openDatabase({ home });
    blobs = openBlobIndex(db.prisma, path.join(home, "blobs"), 0);
  });
  afterAll(async () => {
    await db?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("joins chunks (out of order, resent) into one blob per file and serves them back chunk by chunk", async () => {
    const store = createCheckpointStore(db.prisma, blobs);
    const jobId = await newJob();
    const weights = crypto.randomBytes(CHECKPOINT_CHUNK_BYTES * 2 + 1234);
    const topology = Buffer.from(JSON.stringify({ layers: [784, 128, 10] }));
    const parts = chunked(weights);
    await store.putChunk(jobId, 1, 10, "weights.bin", 2, parts[2]!);
    await store.putChunk(jobId, 1, 10, "weights.bin", 0, crypto.randomBytes(100)); // replaced below
    await store.putChunk(jobId, 1, 10, "weights.bin", 0, parts[0]!);
    await store.putChunk(jobId, 1, 10, "weights.bin", 1, parts[1]!);
    await store.putChunk(jobId, 1, 10, "model.json", 0, topology);
    await store.commit(jobId, {
      v: 1,
      jobId,
      fencingToken: 1,
      step: 10,
      files: [
        { name: "weights.bin", bytes: weights.length, chunks: 3 },
        { name: "model.json", bytes: topology.length, chunks: 1 },
      ],
    });
    expect(await store.latest(jobId)).toMatchObject({ step: 10 });
    expect(sha(await readAll(store, jobId, 10, "weights.bin", 3))).toBe(sha(weights));
    expect((await readAll(store, jobId, 10, "model.json", 1)).toString()).toBe(topology.toString());
    const rows = await db.prisma.jobCheckpointFile.findMany({ where: { jobId }, orderBy: { name: "asc" } });
    expect(rows.map((r) => [r.name, r.digest])).toEqual([
      ["model.json", sha(topology)],
      ["weights.bin", sha(weights)],
    ]);
    await expect(store.read(jobId, 10, "weights.bin", 3)).rejects.toThrow(/no chunk 3/);
    // nothing left staged
    expect(fs.readdirSync(path.join(home, "blobs", "uploads")).filter((f) => f.startsWith("ck_"))).toEqual([]);
  });

  it("refuses a commit whose chunks did not all arrive", async () => {
    const store = createCheckpointStore(db.prisma, blobs);
    const jobId = await newJob();
    await store.putChunk(jobId, 1, 5, "w.bin", 0, crypto.randomBytes(CHECKPOINT_CHUNK_BYTES));
    await expect(
      store.commit(jobId, { v: 1, jobId, fencingToken: 1, step: 5, files: [{ name: "w.bin", bytes: CHECKPOINT_CHUNK_BYTES + 10, chunks: 2 }] }),
    ).rejects.toThrow(/chunk 1 of w.bin was not uploaded/);
    expect(await store.latest(jobId)).toBeNull();
  });

  it("stores an unchanged file once across checkpoints and collects the blobs of dropped ones", async () => {
    const store = createCheckpointStore(db.prisma, blobs);
    const jobId = await newJob();
    const topology = Buffer.from("same topology in every checkpoint");
    const before = new Set(blobFiles(home));
    const steps = Array.from({ length: 14 }, (_, i) => (i + 1) * 100);
    const weightsOf = new Map<number, string>();
    for (const step of steps) {
      const w = crypto.randomBytes(1000);
      weightsOf.set(step, sha(w));
      await store.putChunk(jobId, 1, step, "w.bin", 0, w);
      await store.putChunk(jobId, 1, step, "model.json", 0, topology);
      await store.commit(jobId, {
        v: 1,
        jobId,
        fencingToken: 1,
        step,
        files: [
          { name: "w.bin", bytes: w.length, chunks: 1 },
          { name: "model.json", bytes: topology.length, chunks: 1 },
        ],
      });
    }
    const kept = (await db.prisma.jobCheckpoint.findMany({ where: { jobId }, select: { step: true } })).map((c) => c.step);
    expect(kept.length).toBeLessThan(steps.length);
    const added = blobFiles(home).filter((d) => !before.has(d));
    // one topology blob, plus one weights blob per kept checkpoint: dropped ones were collected
    expect(added.sort()).toEqual([sha(topology), ...kept.map((s) => weightsOf.get(s)!)].sort());
    expect(await db.prisma.blob.count({ where: { digest: { in: steps.filter((s) => !kept.includes(s)).map((s) => weightsOf.get(s)!) } } })).toBe(0);
  });

  it("moves checkpoints kept as database chunks into blobs at startup, idempotently, losing nothing", async () => {
    const store = createCheckpointStore(db.prisma, blobs);
    const jobId = await newJob();
    const weights = crypto.randomBytes(CHECKPOINT_CHUNK_BYTES + 777);
    const meta = Buffer.from('{"step":40}');
    const files = [
      { name: "weights.bin", bytes: weights.length, chunks: 2 },
      { name: "meta.json", bytes: meta.length, chunks: 1 },
    ];
    // what an earlier version left: a complete checkpoint and an upload in progress, as rows
    await db.prisma.jobCheckpoint.create({ data: { jobId, step: 40, attempt: 1, complete: true, files } });
    for (const [i, part] of chunked(weights).entries())
      await db.prisma.jobCheckpointChunk.create({ data: { jobId, step: 40, file: "weights.bin", idx: i, data: new Uint8Array(part) } });
    await db.prisma.jobCheckpointChunk.create({ data: { jobId, step: 40, file: "meta.json", idx: 0, data: new Uint8Array(meta) } });
    const partial = crypto.randomBytes(2000);
    await db.prisma.jobCheckpoint.create({ data: { jobId, step: 50, attempt: 2, files: [] } });
    await db.prisma.jobCheckpointChunk.create({ data: { jobId, step: 50, file: "weights.bin", idx: 0, data: new Uint8Array(partial) } });
    // a blob already stored by an interrupted earlier move changes nothing
    await blobs.put(
      (async function* () {
        yield new Uint8Array(meta);
      })(),
      {},
    );
    // readable from the rows before the move
    expect(sha(await readAll(store, jobId, 40, "weights.bin", 2))).toBe(sha(weights));

    expect(await migrateCheckpointChunks(db.prisma, blobs)).toEqual({ moved: 1, staged: 1, failed: 0 });
    expect(await db.prisma.jobCheckpointChunk.count({ where: { jobId } })).toBe(0);
    expect(sha(await readAll(store, jobId, 40, "weights.bin", 2))).toBe(sha(weights));
    expect((await readAll(store, jobId, 40, "meta.json", 1)).toString()).toBe(meta.toString());
    expect(await migrateCheckpointChunks(db.prisma, blobs)).toEqual({ moved: 0, staged: 0, failed: 0 });
    expect(sha(await readAll(store, jobId, 40, "weights.bin", 2))).toBe(sha(weights));

    // the staged upload completes with its runner's commit, as if the server never restarted
    await store.commit(jobId, { v: 1, jobId, fencingToken: 2, step: 50, files: [{ name: "weights.bin", bytes: partial.length, chunks: 1 }] });
    expect(sha(await readAll(store, jobId, 50, "weights.bin", 1))).toBe(sha(partial));
  });
});
