import { AppError, decodeValue, type LivePointsEvent, type MetricPoint, type RunLog } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";

export type Fanout = (runId: string, event: LivePointsEvent) => void;

/** Where a batch came from, so ingestion can stop reading from it while the database lags. */
export type IngestSource = { pause(): void; resume(): void; readonly canPause: boolean };

export type IngestOptions = {
  /** batches one connection may have in the server (queued or being written) before we stop reading it */
  perSourceBatches?: number;
  /** bytes (batchBytes) one connection may have in the server before we stop reading it */
  perSourceBytes?: number;
  /** bytes all connections together may have in the server before every sender is paused */
  maxPendingBytes?: number;
  /** a run's heartbeatAt is refreshed at most this often by its batches */
  heartbeatEveryMs?: number;
};

type WriterState = { lastSeq: number; ahead: Set<number>; touched: number };

/** what one decoded point costs in memory (object, key reference, fan-out copy) */
const POINT_BYTES = 160;
/** the batch envelope and records counted flat (config, summary, environment are bounded by the message size) */
const BATCH_OVERHEAD_BYTES = 4096;

/**
 * What a batch holds in server memory, estimated without walking every point: images by
 * their bytes, texts and log lines by their characters (UTF-16), points at a flat rate.
 * Back-pressure counts this, so a batch of images weighs what it weighs, not zero points.
 */
export function batchBytes(batch: RunLog): number {
  let n = BATCH_OVERHEAD_BYTES + batch.points.length * POINT_BYTES;
  for (const m of batch.images ?? []) n += m.png.byteLength + 2 * (m.key.length + (m.caption?.length ?? 0));
  // a text row's image is base64 held as a JS string (UTF-16): two bytes per character
  for (const t of batch.texts ?? []) for (const r of t.rows) n += 2 * (r.text.length + (r.caption?.length ?? 0) + (r.image?.png.length ?? 0)) + 64;
  for (const l of batch.logs ?? []) n += 2 * l.line.length + 64;
  return n;
}

/**
 * Writes SDK batches (already validated against RunLogSchema) to the metrics store:
 *
 * 1. Batches of one run are written one after another (a per-run queue): writes of one run
 *    serialize in the database anyway (SQLite's single writer, the store's per-run lock on
 *    PostgreSQL), and in order the next contiguous sequence number is known before writing.
 * 2. Points and the writer's new contiguous seq go to the store in ONE transaction, so what
 *    we ack is durable together with its points. Points are idempotent by (run, key, step): a
 *    replayed batch writes nothing and re-acks.
 * 3. Ack: the highest contiguous seq per (run, writer). A batch ahead of a gap is written
 *    but only acked once the gap fills (if the server restarts first, the SDK resends it).
 * 4. Fan out to dashboards in room run:<id>.
 *
 * Backpressure: every batch counts, by its bytes in memory (batchBytes), against its
 * connection (≤ perSourceBatches batches, ≤ perSourceBytes) and against a global byte budget
 * (maxPendingBytes). Over any, we pause reading the connection's socket (TCP backpressure:
 * the SDK's own buffer/WAL absorbs it), and resume it when it drains. A transport that cannot
 * pause (HTTP long-polling) is refused with a retryable error when over its own or the global
 * budget, and a single batch larger than the global budget is refused outright. So a slow
 * database — or a client queueing images — bounds server memory instead of growing it.
 */
// Long because it is one object literal: guard, lastSeq and write, sharing the per-run sequence
// cache and the byte budgets that make back-pressure and exactly-once work together.
export function createBatchWriter(prisma: PrismaClient, metrics: MetricsStore, fanout: Fanout, opts: IngestOptions = {}) {
  const perSource = opts.perSourceBatches ?? 4;
  const perSourceBytes = opts.perSourceBytes ?? 64 * 2 ** 20;
  const maxPending = opts.maxPendingBytes ?? 256 * 2 ** 20;
  const heartbeatEvery = opts.heartbeatEveryMs ?? 5_000;

  const writers = new Map<string, WriterState>(); // "runId\0writer"
  const knownRuns = new Map<string, number>(); // runId → checked at (ms)
  const heartbeats = new Map<string, number>();
  const queues = new Map<string, Promise<unknown>>();
  const sources = new Map<IngestSource, { batches: number; bytes: number; paused: boolean }>();
  let pendingBytes = 0;

  function overGlobal() {
    return pendingBytes > maxPending;
  }
  const overOwn = (s: { batches: number; bytes: number }) => s.batches >= perSource || s.bytes >= perSourceBytes;
  function admit(source: IngestSource | undefined, n: number) {
    pendingBytes += n;
    if (!source) return;
    const s = sources.get(source) ?? { batches: 0, bytes: 0, paused: false };
    sources.set(source, s);
    s.batches++;
    s.bytes += n;
    if (!s.paused && source.canPause && (overOwn(s) || overGlobal())) {
      s.paused = true;
      source.pause();
    }
  }
  function release(source: IngestSource | undefined, n: number) {
    pendingBytes -= n;
    if (source) {
      const s = sources.get(source);
      if (s) {
        s.batches--;
        s.bytes -= n;
        if (s.batches === 0 && !s.paused) sources.delete(source);
      }
    }
    if (overGlobal()) return;
    for (const [src, s] of sources) {
      if (s.paused && !overOwn(s)) {
        s.paused = false;
        src.resume();
        if (s.batches === 0) sources.delete(src);
      }
    }
  }

  async function assertRun(runId: string) {
    const seen = knownRuns.get(runId);
    if (seen !== undefined && Date.now() - seen < 60_000) return;
    const run = await prisma.run.findUnique({ where: { id: runId }, select: { id: true } });
    if (!run) throw new AppError("NOT_FOUND", `run "${runId}" not found`);
    if (knownRuns.size > 10_000) knownRuns.clear();
    knownRuns.set(runId, Date.now());
  }

  async function writerState(runId: string, writer: string): Promise<WriterState> {
    const k = `${runId}\0${writer}`;
    let st = writers.get(k);
    // another server process may have advanced it: re-read after a minute idle
    if (!st || Date.now() - st.touched > 60_000) {
      const row = await prisma.runWriter.findUnique({ where: { runId_writer: { runId, writer } } });
      st = { lastSeq: Math.max(row?.lastSeq ?? 0, st?.lastSeq ?? 0), ahead: st?.ahead ?? new Set(), touched: Date.now() };
      if (writers.size > 10_000) writers.clear();
      writers.set(k, st);
    }
    st.touched = Date.now();
    return st;
  }

  async function write(batch: RunLog): Promise<{ ackSeq: number; written: number }> {
    await assertRun(batch.runId);
    const st = await writerState(batch.runId, batch.writer);
    if (batch.seq <= st.lastSeq || st.ahead.has(batch.seq)) return { ackSeq: st.lastSeq, written: 0 };
    let next = st.lastSeq;
    if (batch.seq === next + 1) {
      next++;
      while (st.ahead.has(next + 1)) next++;
    }
    const points = new Array<MetricPoint>(batch.points.length);
    for (let i = 0; i < points.length; i++) {
      const p = batch.points[i]!;
      points[i] = { key: p.key, step: p.step, value: decodeValue(p.value), ts: p.ts };
    }
    const { inserted } = await metrics.write(batch.runId, points, next > st.lastSeq ? { writer: batch.writer, ackSeq: next } : undefined);
    if (next > st.lastSeq) {
      for (let s = st.lastSeq + 1; s <= next; s++) st.ahead.delete(s);
      st.lastSeq = next;
    } else st.ahead.add(batch.seq);

    const now = Date.now();
    if (now - (heartbeats.get(batch.runId) ?? 0) > heartbeatEvery) {
      heartbeats.set(batch.runId, now);
      await prisma.run.updateMany({ where: { id: batch.runId, status: { in: ["running", "stale"] } }, data: { heartbeatAt: new Date(), status: "running" } });
    }
    if (inserted > 0)
      fanout(batch.runId, {
        runId: batch.runId,
        points: points.map((p) => ({ key: p.key, step: p.step, value: Number.isFinite(p.value) ? p.value : null, ts: p.ts })),
      });
    return { ackSeq: st.lastSeq, written: inserted };
  }

  return {
    /**
     * Runs `fn` (the whole handling of one batch, queueing included) counted by `bytes`
     * (batchBytes) against `source` and the global budget; pauses/resumes the source as
     * described above.
     */
    async guard<T>(source: IngestSource | undefined, bytes: number, fn: () => Promise<T>): Promise<T> {
      if (bytes > maxPending)
        throw new AppError(
          "BAD_REQUEST",
          `batch of ${bytes} bytes is larger than the server's in-flight budget (${maxPending} bytes): send fewer images or texts per batch`,
        );
      if (!(source?.canPause ?? false)) {
        const own = source ? sources.get(source) : undefined;
        if (overGlobal() || (own && own.bytes + bytes > perSourceBytes)) {
          throw new AppError("CONFLICT", `server busy: ${pendingBytes} bytes of batches waiting to be written; retry this batch later`);
        }
      }
      admit(source, bytes);
      try {
        return await fn();
      } finally {
        release(source, bytes);
      }
    },
    /** writes one batch (see above); batches of one run are applied in arrival order */
    ingest(batch: RunLog): Promise<{ ackSeq: number; written: number }> {
      const prev = queues.get(batch.runId) ?? Promise.resolve();
      const mine = prev.then(
        () => write(batch),
        () => write(batch),
      );
      const tail = mine.catch(() => undefined);
      queues.set(batch.runId, tail);
      void tail.then(() => {
        if (queues.get(batch.runId) === tail) queues.delete(batch.runId);
      });
      return mine;
    },
    async lastSeq(runId: string, writer: string): Promise<number> {
      return (await writerState(runId, writer)).lastSeq;
    },
    /** for tests and metrics: what is held in memory right now */
    stats: () => ({ pendingBytes, pausedSources: [...sources.values()].filter((s) => s.paused).length, queuedRuns: queues.size }),
  };
}
export type BatchWriter = ReturnType<typeof createBatchWriter>;
