import fs from "node:fs";
import path from "node:path";

import { isSystemKey, type PackedPoints, type RunLogLine, unpackPoints } from "@heron/core";

/** A metric point as earlier SDK versions wrote it: [key, step, value, ts] — NaN/±Inf as strings. */
export type WalPoint = [string, number, number | "NaN" | "Infinity" | "-Infinity", number];

/**
 * One sequenced batch: one WAL line, one `run:log` event, one ack. Points are `packed` (the
 * wire form, see packed-points.ts; base64 in the WAL line); logs written by earlier versions
 * hold `points` tuples instead, still read and uploaded.
 */
export type WalBatch = {
  seq: number;
  packed?: PackedPoints;
  points?: WalPoint[];
  rewind?: { step: number };
  texts?: { key: string; step: number; rows: { text: string; caption?: string; image?: { width: number; height: number; png: string } }[]; ts: number }[];
  /** png is base64 in the WAL (JSON lines); the sender turns it into binary */
  images?: { key: string; step: number; caption?: string; width: number; height: number; png: string; ts: number }[];
  logs?: RunLogLine[];
  config?: Record<string, unknown>;
  summary?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  end?: { state: "finished" | "crashed" | "aborted"; error?: string };
  alerts?: { title: string; text: string; level: AlertLevel; ts: number }[];
};

export type AlertLevel = "info" | "warn" | "error";

type Segment = { file: string; firstSeq: number; lastSeq: number; bytes: number };

const SEGMENT_BYTES = 8 * 1024 * 1024;
/**
 * Segments are opened O_DSYNC where the platform has it: each write returns durable, as a
 * write + fdatasync would, in one call — one trip to the libuv pool per batch instead of two
 * (elsewhere, e.g. Windows: write, then fdatasync).
 */
const O_DSYNC = fs.constants.O_DSYNC ?? 0;
const SEGMENT_RE = /^(.+)\.(\d{12})\.jsonl$/;

/**
 * Append-only write-ahead log of one writer, in segment files `wal/<writer>.<firstSeq>.jsonl`.
 * Appends are queued and written off the training thread (libuv pool), durable (O_DSYNC or
 * fdatasync) per write call — a call carries every line queued meanwhile, so a busy logger gets group commit.
 * Acked segments are deleted; a torn last line (killed mid-write) is ignored on read.
 */
export class WriteAheadLog {
  readonly dir: string;
  private segments: Segment[] = [];
  private fd: number | null = null;
  private queue: { seq: number; line: string }[] = [];
  /** lines handed to an async write that has not completed yet */
  private inflight: { seq: number; line: string }[] = [];
  private writing: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private failed: Error | null = null;

  constructor(
    runDir: string,
    readonly writer: string,
  ) {
    this.dir = path.join(runDir, "wal");
    fs.mkdirSync(this.dir, { recursive: true });
    for (const s of listSegments(this.dir, writer)) this.segments.push(s);
  }

  /** highest seq already in the log (0 when empty) — a restarted writer continues after it */
  lastSeq(): number {
    return this.segments.reduce((m, s) => Math.max(m, s.lastSeq), 0);
  }

  /** queues a batch; `written()` resolves once it (and everything before it) is on disk */
  append(batch: WalBatch): number {
    const line =
      JSON.stringify(
        batch.packed
          ? {
              ...batch,
              packed: {
                keys: batch.packed.keys,
                data: Buffer.from(batch.packed.data.buffer, batch.packed.data.byteOffset, batch.packed.data.byteLength).toString("base64"),
              },
            }
          : batch,
      ) + "\n";
    this.queue.push({ seq: batch.seq, line });
    if (!this.writing) this.writing = this.drain();
    return line.length;
  }

  written(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Exit paths: write everything still queued right now, synchronously — including lines of
   * an async write still in flight (the process may die before it lands; a line written
   * twice is read once, by seq).
   */
  flushSync(): void {
    const items = [...this.inflight, ...this.queue.splice(0)];
    if (!items.length) return;
    const fd = this.openFor(items[0]!.seq);
    const buf = Buffer.from(items.map((i) => i.line).join(""));
    fs.writeSync(fd, buf);
    if (!O_DSYNC) fs.fdatasyncSync(fd);
    this.noteWritten(items, buf.length);
  }

  /**
   * Drops segments whose batches are all acknowledged. The open (last) segment stays: it
   * remembers the highest seq, so a writer killed right after an ack still numbers on.
   */
  trim(ackSeq: number): void {
    for (const s of this.segments.slice(0, -1)) {
      if (s.lastSeq > ackSeq) continue;
      fs.rmSync(s.file, { force: true });
      this.segments.splice(this.segments.indexOf(s), 1);
    }
  }

  /** batches with seq in (afterSeq, uptoSeq], in order, read back from disk */
  read(afterSeq = 0, uptoSeq = Infinity, maxBytes = Infinity): WalBatch[] {
    return readBatches(this.dir, this.writer, afterSeq, uptoSeq, maxBytes);
  }

  close(): void {
    this.flushSync();
    this.closeFd();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const items = this.queue.splice(0);
        this.inflight = items;
        const fd = this.openFor(items[0]!.seq);
        const buf = Buffer.from(items.map((i) => i.line).join(""));
        await new Promise<void>((resolve, reject) => fs.write(fd, buf, (err) => (err ? reject(err) : resolve())));
        if (!O_DSYNC) await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
        this.inflight = [];
        this.noteWritten(items, buf.length);
      }
    } catch (err) {
      this.failed = err as Error;
      console.error(`[heron] cannot write the run's write-ahead log in ${this.dir}: ${(err as Error).message}`);
    } finally {
      this.writing = null;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private openFor(firstSeq: number): number {
    const current = this.segments.at(-1);
    if (this.fd !== null && current && current.bytes < SEGMENT_BYTES) return this.fd;
    this.closeFd();
    const file = path.join(this.dir, `${this.writer}.${String(firstSeq).padStart(12, "0")}.jsonl`);
    this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | O_DSYNC, 0o644);
    const existing = this.segments.find((s) => s.file === file);
    if (!existing) this.segments.push({ file, firstSeq, lastSeq: firstSeq - 1, bytes: 0 });
    // make the new file's directory entry durable too
    syncDir(this.dir);
    return this.fd;
  }

  private noteWritten(items: { seq: number }[], bytes: number) {
    const s = this.segments.at(-1)!;
    s.bytes += bytes;
    for (const i of items) s.lastSeq = Math.max(s.lastSeq, i.seq);
  }

  private closeFd() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

function syncDir(dir: string) {
  try {
    const fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the data itself is still synced
  }
}

/** writers that have a WAL in this run dir */
export function listWriters(runDir: string): string[] {
  const dir = path.join(runDir, "wal");
  if (!fs.existsSync(dir)) return [];
  const names = new Set<string>();
  for (const f of fs.readdirSync(dir)) {
    const m = SEGMENT_RE.exec(f);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

function listSegments(dir: string, writer: string): Segment[] {
  const out: Segment[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const m = SEGMENT_RE.exec(f);
    if (!m || m[1] !== writer) continue;
    const file = path.join(dir, f);
    const batches = parseSegment(file);
    const firstSeq = Number(m[2]);
    out.push({ file, firstSeq, lastSeq: batches.reduce((mx, b) => Math.max(mx, b.seq), firstSeq - 1), bytes: fs.statSync(file).size });
  }
  return out;
}

function parseSegment(file: string): WalBatch[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return []; // trimmed meanwhile
  }
  const out: WalBatch[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const b = JSON.parse(line) as WalBatch & { packed?: { keys: string[]; data: string | Uint8Array } };
      if (typeof b.packed?.data === "string") b.packed.data = Buffer.from(b.packed.data, "base64");
      out.push(b as WalBatch);
    } catch {
      // a torn line: the process died mid-write; it was never acknowledged to anyone
    }
  }
  return out;
}

export function readBatches(dir: string, writer: string, afterSeq: number, uptoSeq: number, maxBytes: number): WalBatch[] {
  const byseq = new Map<number, WalBatch>();
  let bytes = 0;
  const segs = listSegments(dir, writer).sort((a, b) => a.firstSeq - b.firstSeq);
  for (const s of segs) {
    if (s.lastSeq <= afterSeq || s.firstSeq > uptoSeq) continue;
    for (const b of parseSegment(s.file)) if (b.seq > afterSeq && b.seq <= uptoSeq) byseq.set(b.seq, b);
    bytes += s.bytes;
    if (bytes >= maxBytes) break;
  }
  // contiguous from afterSeq+1 only: a batch after a gap cannot be acked before the gap is sent
  const out: WalBatch[] = [];
  for (let seq = afterSeq + 1; byseq.has(seq); seq++) out.push(byseq.get(seq)!);
  return out;
}

/**
 * The highest step of the (non-`sys/`) points left in a writer's log, rewinds applied in
 * order; null when there are none. A process resuming a run whose earlier process died
 * before uploading continues after it (the server does not know those steps yet).
 */
export function lastLoggedStep(runDir: string, writer: string): number | null {
  const dir = path.join(runDir, "wal");
  const batches = listSegments(dir, writer).flatMap((s) => parseSegment(s.file));
  batches.sort((a, b) => a.seq - b.seq);
  let max: number | null = null;
  for (const b of batches) {
    if (b.rewind && max !== null) max = Math.min(max, b.rewind.step);
    for (const [key, step] of batchPoints(b)) if (!isSystemKey(key) && (max === null || step > max)) max = step;
  }
  return max;
}

/** [key, step] of a batch's points, packed or in the earlier tuple form (a corrupt packed part reads as none) */
function batchPoints(b: WalBatch): [string, number][] {
  if (b.points) return b.points.map(([key, step]) => [key, step]);
  if (!b.packed) return [];
  const r = unpackPoints(b.packed);
  return "points" in r ? r.points.map((p) => [p.key, p.step]) : [];
}
