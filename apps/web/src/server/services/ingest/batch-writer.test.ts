import { type MetricPoint, PROTOCOL_VERSION, type RunLog } from "@heron/core";
import type { MetricsStore } from "@heron/db";
import { describe, expect, it } from "vitest";

import { batchBytes, createBatchWriter, type IngestSource } from "./batch-writer";

/** a store that records writes and can be held (a slow database) */
function fakeStore() {
  const writes: { runId: string; points: MetricPoint[]; writer?: { writer: string; ackSeq: number } }[] = [];
  let hold: Promise<void> | null = null;
  let release = () => {};
  const store = {
    async write(runId: string, points: MetricPoint[], writer?: { writer: string; ackSeq: number }) {
      if (hold) await hold;
      writes.push({ runId, points, writer });
      return { inserted: points.length };
    },
  } as unknown as MetricsStore;
  return {
    store,
    writes,
    hold() {
      hold = new Promise((r) => (release = r));
    },
    release() {
      hold = null;
      release();
    },
  };
}
const prisma = {
  run: {
    findUnique: async ({ where }: { where: { id: string } }) => (where.id.startsWith("run") ? { id: where.id } : null),
    updateMany: async () => ({ count: 1 }),
  },
  runWriter: { findUnique: async () => null },
} as never;
const batch = (seq: number, n = 3, runId = "run1"): RunLog =>
  ({
    v: PROTOCOL_VERSION,
    runId,
    seq,
    writer: "0",
    points: Array.from({ length: n }, (_, i) => ({ key: "k", step: seq * 100 + i, value: i, ts: 1 })),
  }) as RunLog;
const source = () => {
  const s = { paused: 0, resumed: 0, canPause: true, pause: () => void s.paused++, resume: () => void s.resumed++ };
  return s satisfies IngestSource;
};

describe("ingest service", () => {
  it("acks the highest contiguous seq, persists it with the points, and re-acks duplicates", async () => {
    const f = fakeStore();
    const fanned: string[] = [];
    const ingest = createBatchWriter(prisma, f.store, (runId) => fanned.push(runId));
    expect(await ingest.ingest(batch(1))).toEqual({ ackSeq: 1, written: 3 });
    expect(await ingest.ingest(batch(3))).toEqual({ ackSeq: 1, written: 3 }); // ahead of a gap: written, not acked
    expect(f.writes.at(-1)!.writer).toBeUndefined();
    expect(await ingest.ingest(batch(2))).toEqual({ ackSeq: 3, written: 3 }); // fills the gap: acks through 3
    expect(f.writes.at(-1)!.writer).toEqual({ writer: "0", ackSeq: 3 });
    expect(await ingest.ingest(batch(2))).toEqual({ ackSeq: 3, written: 0 }); // replay: nothing written
    expect(await ingest.ingest(batch(3))).toEqual({ ackSeq: 3, written: 0 });
    expect(f.writes).toHaveLength(3);
    expect(fanned).toEqual(["run1", "run1", "run1"]);
    expect(await ingest.lastSeq("run1", "0")).toBe(3);
    await expect(ingest.ingest(batch(1, 1, "nope"))).rejects.toThrow(/run "nope" not found/);
  });

  it("pauses a connection while its batches wait on a slow database and resumes it when drained", async () => {
    const f = fakeStore();
    const ingest = createBatchWriter(prisma, f.store, () => {}, { perSourceBatches: 4, maxPendingBytes: 1_000_000 });
    const src = source();
    f.hold();
    const acks = [1, 2, 3, 4, 5, 6].map((seq) => ingest.guard(src, 10, () => ingest.ingest(batch(seq, 10))));
    await new Promise((r) => setTimeout(r, 10));
    expect(src.paused).toBe(1);
    expect(ingest.stats()).toMatchObject({ pendingBytes: 60, pausedSources: 1 });
    f.release();
    expect((await Promise.all(acks)).at(-1)).toEqual({ ackSeq: 6, written: 10 });
    expect(src.resumed).toBe(1);
    expect(ingest.stats()).toMatchObject({ pendingBytes: 0, pausedSources: 0 });
  });

  it("bounds memory across connections: over the global budget every sender pauses; a transport that cannot pause is refused", async () => {
    const f = fakeStore();
    const ingest = createBatchWriter(prisma, f.store, () => {}, { perSourceBatches: 100, maxPendingBytes: 25 });
    const a = source();
    const b = source();
    f.hold();
    const pending = [
      ingest.guard(a, 10, () => ingest.ingest(batch(1, 10, "runA"))),
      ingest.guard(b, 10, () => ingest.ingest(batch(1, 10, "runB"))),
      ingest.guard(a, 10, () => ingest.ingest(batch(2, 10, "runA"))),
    ];
    await new Promise((r) => setTimeout(r, 10));
    expect(a.paused).toBe(1); // the third batch crossed the budget
    const polling = { ...source(), canPause: false };
    await expect(ingest.guard(polling, 10, () => ingest.ingest(batch(1, 10, "runC")))).rejects.toThrow(/server busy/);
    f.release();
    await Promise.all(pending);
    expect(a.resumed).toBe(1);
    expect(ingest.stats().pendingBytes).toBe(0);
  });

  it("budgets by bytes: image batches without points pause their connection; over the budget a polling client is refused", async () => {
    const f = fakeStore();
    const ingest = createBatchWriter(prisma, f.store, () => {}, { perSourceBatches: 100, perSourceBytes: 20 * 2 ** 20, maxPendingBytes: 50 * 2 ** 20 });
    const png = new Uint8Array(8 * 2 ** 20);
    const imageBatch = (seq: number, runId = "run1"): RunLog => ({
      ...batch(seq, 0, runId),
      images: [{ key: "img", step: seq, width: 1, height: 1, png, ts: 1 }],
    });
    expect(batchBytes(imageBatch(1))).toBeGreaterThanOrEqual(png.byteLength);
    expect(batchBytes(batch(1, 1000))).toBeGreaterThan(1000 * 16);
    const a = source();
    f.hold();
    const pending = [1, 2, 3].map((seq) => ingest.guard(a, batchBytes(imageBatch(seq)), () => ingest.ingest(imageBatch(seq))));
    await new Promise((r) => setTimeout(r, 10));
    expect(a.paused).toBe(1); // 24 MiB of images in flight > 20 MiB for one connection
    const b = source();
    const more = [1, 2, 3, 4].map((seq) => ingest.guard(b, batchBytes(imageBatch(seq, "run2")), () => ingest.ingest(imageBatch(seq, "run2"))));
    await new Promise((r) => setTimeout(r, 10));
    expect(ingest.stats().pendingBytes).toBeGreaterThan(50 * 2 ** 20);
    const polling = { ...source(), canPause: false };
    await expect(ingest.guard(polling, batchBytes(imageBatch(1, "run3")), () => ingest.ingest(imageBatch(1, "run3")))).rejects.toThrow(/server busy: .*bytes/);
    await expect(ingest.guard(polling, 60 * 2 ** 20, async () => null)).rejects.toThrow(/larger than the server's in-flight budget/);
    f.release();
    await Promise.all([...pending, ...more]);
    expect(ingest.stats()).toMatchObject({ pendingBytes: 0, pausedSources: 0 });
  });
});
