import { packPoints, PROTOCOL_VERSION, type RunInit, type RunInitAck, type RunLogAck, type SdkToServer, type ServerToSdk } from "@heron/core";
import { io, type Socket } from "socket.io-client";

import type { WalBatch, WriteAheadLog } from "./wal";

type HeronSocket = Socket<ServerToSdk, SdkToServer>;
export type InitOk = Extract<RunInitAck, { ok: true }>;
/** run:init payload without `v` */
export type InitPayload = Omit<RunInit, "v" | "resume"> & { resume?: RunInit["resume"] };

export type SenderOptions = {
  host: string;
  apiKey?: string;
  wal: WriteAheadLog;
  writer: string;
  /** payload of the first run:init; later reconnects send only what identifies the run */
  init: InitPayload;
  /** batches sent before their ack (pipelining); the server applies them in order */
  window?: number;
  /** unacked batches kept in memory; beyond this they are re-read from the WAL */
  memoryBytes?: number;
  ackTimeoutMs?: number;
  /**
   * leave out the batches' `end`: a writer taken over by a later process of the same run
   * (see takeover.ts) — that process decides how the run ends, not the one that died
   */
  dropEnd?: boolean;
};

/**
 * Moves WAL batches to the server: connect, run:init (which tells the highest seq the server
 * already holds for this writer), send everything after it, trim the WAL on acks. On any
 * disconnect, timeout or error it reconnects with backoff and replays from the last ack,
 * forever. Memory is bounded: past `memoryBytes` of unacked data, batches stay on disk only.
 */
export class Sender {
  ackedSeq = 0;
  private socket: HeronSocket;
  private ready = false;
  private initialized = false;
  private epoch = 0;
  private queue: { batch: WalBatch; bytes: number }[] = [];
  private queueBytes = 0;
  /** highest seq handed to us; batches after the last queued one are on disk only */
  private lastSeq = 0;
  private sentUpTo = 0;
  private inflight = 0;
  private reloading = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];
  private readonly window: number;
  private readonly memoryBytes: number;
  private readonly ackTimeoutMs: number;
  private firstInit: { resolve: (a: InitOk) => void; reject: (e: Error) => void } | null = null;
  private warned = false;
  private held = false;

  constructor(private readonly opts: SenderOptions) {
    this.window = opts.window ?? 4;
    this.memoryBytes = opts.memoryBytes ?? 64 * 1024 * 1024;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
    this.socket = io(opts.host, {
      path: "/socket.io",
      auth: { token: opts.apiKey },
      transports: ["websocket"],
      autoConnect: false,
      reconnectionDelay: 250,
      reconnectionDelayMax: 5_000,
      timeout: 10_000,
      // the training process must be free to exit: a finish() in flight keeps it alive on its own
      autoUnref: true,
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", () => this.onDisconnect());
    this.socket.on("connect_error", (err) => {
      if (this.firstInit && /unauthorized/.test(err.message)) {
        this.firstInit.reject(new Error(`heron: the server refused the API key (${err.message})`));
        this.firstInit = null;
      }
      // middleware refusals are not retried by socket.io itself; we keep trying (a key may be restored)
      if (!this.socket.active) this.scheduleRetry();
    });
  }

  /** connects and sends run:init; resolves with the first successful ack */
  start(): Promise<InitOk> {
    return new Promise((resolve, reject) => {
      this.firstInit = { resolve, reject };
      this.socket.connect();
    });
  }

  get connected(): boolean {
    return this.ready;
  }

  /** batches handed over but not acknowledged yet */
  get unacknowledged(): number {
    return this.lastSeq - this.ackedSeq;
  }

  get runId(): string | undefined {
    return this.opts.init.id;
  }

  /** a batch that was appended to the WAL */
  enqueue(batch: WalBatch, bytes: number): void {
    const diskOnly = this.lastSeq > (this.queue.at(-1)?.batch.seq ?? this.ackedSeq);
    this.lastSeq = batch.seq;
    if (!diskOnly && this.queueBytes + bytes <= this.memoryBytes) {
      this.queue.push({ batch, bytes });
      this.queueBytes += bytes;
    }
    this.pump();
  }

  /** sync: everything up to `lastSeq` is in the WAL already; send what the server lacks */
  replayFromDisk(lastSeq: number): void {
    this.lastSeq = Math.max(this.lastSeq, lastSeq);
    this.queue = [];
    this.queueBytes = 0;
    this.pump();
  }

  /**
   * sends nothing until `until` settles (run:init still goes out): a resumed process's own
   * batches wait for the earlier writers' leftovers, so a rewind of the new process cannot be
   * overtaken by old points it meant to drop
   */
  hold(until: Promise<unknown>): void {
    this.held = true;
    void until
      .catch(() => undefined)
      .then(() => {
        this.held = false;
        this.pump();
      });
  }

  heartbeat(): void {
    if (this.ready && this.opts.init.id) this.socket.emit("run:heartbeat", { v: PROTOCOL_VERSION, runId: this.opts.init.id });
  }

  /** resolves true once everything handed over is acknowledged, false on timeout */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.ackedSeq >= this.lastSeq) return true;
    // keep the event loop alive while we wait: the socket itself is unref'd
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      this.whenDrained().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return ok;
  }

  /** resolves once everything handed over is acknowledged; does not keep the process alive */
  whenDrained(): Promise<void> {
    if (this.ackedSeq >= this.lastSeq) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket.close();
  }

  private onConnect() {
    const epoch = ++this.epoch;
    const init = this.initialized
      ? {
          project: this.opts.init.project,
          id: this.opts.init.id,
          rank: this.opts.init.rank,
          writer: this.opts.writer,
          resume: "allow" as const,
          sync: this.opts.init.sync,
        }
      : { ...this.opts.init, writer: this.opts.writer };
    this.socket.timeout(this.ackTimeoutMs).emit("run:init", { v: PROTOCOL_VERSION, ...init }, (err: Error | null, ack: RunInitAck) => {
      if (epoch !== this.epoch || this.closed) return;
      if (err) return this.reconnect();
      if (!ack.ok) {
        if (this.firstInit) {
          this.firstInit.reject(new Error(`heron init failed: ${ack.error}`));
          this.firstInit = null;
          return this.close();
        }
        console.warn(`[heron] the server refused to continue run ${this.opts.init.id}: ${ack.error} (retrying)`);
        return this.scheduleRetry();
      }
      this.initialized = true;
      this.ready = true;
      this.firstInit?.resolve(ack);
      this.firstInit = null;
      this.warned = false;
      this.onAck(ack.lastSeq);
      this.sentUpTo = this.ackedSeq;
      this.pump();
    });
  }

  private onDisconnect() {
    this.ready = false;
    this.epoch++;
    this.inflight = 0;
    this.sentUpTo = this.ackedSeq;
    if (!this.warned && !this.closed && this.lastSeq > this.ackedSeq) {
      this.warned = true;
      console.warn(`[heron] lost the connection to ${this.opts.host}; logging continues to ${this.opts.wal.dir} and will be replayed`);
    }
  }

  private reconnect() {
    if (this.closed) return;
    this.socket.disconnect();
    this.onDisconnect();
    this.scheduleRetry();
  }

  private scheduleRetry() {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.socket.connected) this.socket.connect();
    }, 1_000);
    this.retryTimer.unref();
  }

  private onAck(ackSeq: number) {
    if (ackSeq <= this.ackedSeq) return;
    this.ackedSeq = ackSeq;
    while (this.queue.length && this.queue[0]!.batch.seq <= ackSeq) this.queueBytes -= this.queue.shift()!.bytes;
    this.opts.wal.trim(ackSeq);
    if (this.ackedSeq >= this.lastSeq) for (const w of this.drainWaiters.splice(0)) w();
  }

  private pump() {
    if (!this.ready || this.closed || this.held) return;
    while (this.inflight < this.window && this.sentUpTo < this.lastSeq) {
      const next = this.sentUpTo + 1;
      const head = this.queue[0]?.batch.seq ?? Infinity;
      const entry = next >= head ? this.queue[next - head] : undefined;
      if (!entry) return void this.reload();
      this.sentUpTo = next;
      this.send(entry.batch);
    }
  }

  /** brings the next on-disk-only batches back into memory (after an outage or a memory cap) */
  private reload() {
    if (this.reloading) return;
    this.reloading = true;
    this.opts.wal
      .written()
      .then(() => {
        // everything unsent is on disk now: the queue restarts from the first unsent seq
        const batches = this.opts.wal.read(this.sentUpTo, this.lastSeq, this.memoryBytes / 2);
        this.queue = batches.map((batch) => ({ batch, bytes: 0 }));
        this.queueBytes = 0;
      })
      .catch((err: Error) => console.error(`[heron] cannot read the write-ahead log: ${err.message}`))
      .finally(() => {
        this.reloading = false;
        if (this.queue[0]?.batch.seq === this.sentUpTo + 1) this.pump();
        else this.scheduleRetryPump();
      });
  }

  private send(batch: WalBatch) {
    const epoch = this.epoch;
    this.inflight++;
    const payload = toWire(this.opts.dropEnd && batch.end ? { ...batch, end: undefined } : batch, this.opts.init.id!, this.opts.writer);
    this.socket.timeout(this.ackTimeoutMs).emit("run:log", payload, (err: Error | null, ack: RunLogAck) => {
      if (epoch !== this.epoch || this.closed) return;
      this.inflight--;
      if (err) return this.reconnect(); // silent connection: start over on a fresh one
      if (!ack.ok) {
        console.warn(`[heron] the server refused batch ${batch.seq}: ${ack.error} (will retry)`);
        this.sentUpTo = this.ackedSeq;
        this.epoch++;
        this.inflight = 0;
        return this.scheduleRetryPump();
      }
      this.onAck(ack.ackSeq);
      if (this.inflight === 0 && this.ackedSeq < this.sentUpTo) this.sentUpTo = this.ackedSeq; // the server saw a gap
      this.pump();
    });
  }

  private scheduleRetryPump() {
    const t = setTimeout(() => this.pump(), 2_000);
    t.unref();
  }
}

/** WAL batch → run:log payload (points packed in binary columns, images binary) */
export function toWire(b: WalBatch, runId: string, writer: string) {
  return {
    v: PROTOCOL_VERSION,
    runId,
    seq: b.seq,
    writer,
    // batches from logs of earlier SDK versions hold tuples: packed here
    packed: b.packed ?? packPoints(b.points ?? []),
    ...(b.rewind ? { rewind: b.rewind } : {}),
    ...(b.texts ? { texts: b.texts } : {}),
    ...(b.images ? { images: b.images.map((i) => ({ ...i, png: Buffer.from(i.png, "base64") })) } : {}),
    ...(b.logs ? { logs: b.logs } : {}),
    ...(b.config ? { config: b.config } : {}),
    ...(b.summary ? { summary: b.summary } : {}),
    ...(b.environment ? { environment: b.environment } : {}),
    ...(b.alerts ? { alerts: b.alerts } : {}),
    ...(b.end ? { end: b.end } : {}),
  };
}
