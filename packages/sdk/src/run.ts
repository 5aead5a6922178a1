import { MAX_POINTS_PER_BATCH, MAX_TEXT_IMAGE_BASE64, rankKey, type RunLogLine, TextSampleImageSchema } from "@heron/core";
import { encode as encodePng } from "fast-png";

import type { LogArtifactOptions, LoggedArtifact, RunArtifacts } from "./artifacts/run-artifacts";
import { ConsoleCapture } from "./console-capture";
import { readTfjs } from "./environment";
import { PointBuffer } from "./point-buffer";
import { writeWriterMeta } from "./run-dir";
import type { Sender } from "./sender";
import { SystemMetrics } from "./system-metrics";
import type { AlertLevel, WalBatch, WriteAheadLog } from "./wal";

export type RunState = "finished" | "crashed" | "aborted";
export type Mode = "online" | "offline" | "disabled";
export type ImageInput = Uint8Array | { data: ArrayLike<number>; width: number; height: number; channels?: 1 | 2 | 3 | 4 };
/** a text sample; `image` (a base64 PNG, e.g. the picture a VLM answered about) is shown beside it */
export type TextRow = string | { text: string; caption?: string; image?: { width: number; height: number; png: string } };

export type RunParts = {
  id: string;
  url: string;
  mode: Mode;
  rank: number;
  dir: string | null;
  startedAt: number;
  lastStep: number | null;
  wal: WriteAheadLog | null;
  sender: Sender | null;
  /** logArtifact / useArtifact (null when disabled) */
  artifacts?: RunArtifacts | null;
  /** uploads of earlier processes' leftovers (see takeover.ts), closed with the run */
  takeover?: { close(): void; done: Promise<void> } | null;
  flushIntervalMs: number;
  flushPoints: number;
  finishTimeoutMs: number;
  heartbeatIntervalMs: number;
  captureConsole: boolean;
  captureSystem: boolean;
  systemIntervalMs: number;
  tfjsBackend: string | null;
};

const MAX_LOG_LINES_PER_BATCH = 5_000;
const MAX_KEY = 512;
const PER_PROCESS = /\/(proc_|tfjs_)[^/]*$/;

/**
 * One tracked run. `log()` only appends to an in-memory buffer (a few hundred ns per key);
 * a timer cuts the buffer into sequenced batches every `flushIntervalMs` (or every
 * `flushPoints` points), which go to the write-ahead log and then to the sender.
 */
export class Run {
  readonly id: string;
  readonly url: string;
  readonly mode: Mode;
  readonly rank: number;
  /** the run's local directory (write-ahead log, metadata); null when disabled */
  readonly dir: string | null;
  /** user values shown beside the run (final accuracy …); sent with finish() */
  readonly summary: Record<string, unknown> = {};
  readonly config: { update: (values: Record<string, unknown>) => void };
  private step: number;
  private seq: number;
  private pending = new PointBuffer();
  private texts: NonNullable<WalBatch["texts"]> = [];
  private images: NonNullable<WalBatch["images"]> = [];
  private alerts: NonNullable<WalBatch["alerts"]> = [];
  private logs: RunLogLine[] = [];
  private droppedLogLines = 0;
  private pendingConfig: Record<string, unknown> | null = null;
  private pendingEnv: Record<string, unknown> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private console: ConsoleCapture | null = null;
  private finishing: Promise<void> | null = null;
  private warned = new Set<string>();
  private tfjsBackend: string | null;
  detach: () => void = () => undefined;

  /** @internal runs are made by init(); the parts are the SDK's own plumbing, not public API */
  constructor(private readonly p: RunParts) {
    this.id = p.id;
    this.url = p.url;
    this.mode = p.mode;
    this.rank = p.rank;
    this.dir = p.dir;
    this.step = p.lastStep ?? -1;
    this.seq = p.wal?.lastSeq() ?? 0;
    this.tfjsBackend = p.tfjsBackend;
    this.config = { update: (values) => this.updateConfig(values) };
    if (p.mode === "disabled") return;
    this.every(p.flushIntervalMs, () => this.cut());
    if (p.sender) this.every(p.heartbeatIntervalMs, () => p.sender?.heartbeat());
    if (p.captureSystem) {
      const sys = new SystemMetrics();
      const tick = () =>
        void sys.sample().then(
          (s) => this.logSystem(s),
          () => undefined,
        );
      tick();
      this.every(p.systemIntervalMs, tick);
    }
    if (p.captureConsole) {
      this.console = new ConsoleCapture((line) => this.addLogLine(line));
      this.console.start();
    }
  }

  /**
   * Logs scalars at a step (default: the previous highest step + 1). Nested objects become
   * "a/b" keys. A value that is not a number is reported by key and skipped; the others are
   * logged. NaN and ±Inf are kept.
   */
  log(metrics: Record<string, unknown>, opts: { step?: number } = {}): void {
    const step = opts.step ?? this.step + 1;
    if (!Number.isSafeInteger(step) || step < 0)
      return this.warnOnce(`step:${step}`, `log(): step must be an integer in [0, 2^53), got ${step} — nothing logged`);
    if (step > this.step) this.step = step;
    if (this.p.mode === "disabled") return;
    if (this.finishing) return this.warnOnce("finished", "log() after finish() — ignored");
    this.addPoints(metrics, "", step, Date.now());
    if (this.pending.length >= this.p.flushPoints) this.cut();
  }

  /** text samples at a step, e.g. question / model answer / ground truth */
  logText(key: string, rows: TextRow[] | TextRow, opts: { step?: number } = {}): void {
    if (this.p.mode === "disabled" || this.finishing || !this.checkKey(key)) return;
    key = rankKey(key, this.rank);
    const list = (Array.isArray(rows) ? rows : [rows]).map((r) => {
      if (typeof r === "string") return { text: r };
      // the server refuses a whole batch holding a bad image: drop the image here, keep the text
      if (r.image === undefined || TextSampleImageSchema.safeParse(r.image).success) return r;
      this.warnOnce(
        `text-img:${key}`,
        `logText("${key}"): image must be {width, height, png: base64 PNG ≤ ${MAX_TEXT_IMAGE_BASE64} chars} — logged without it`,
      );
      return { text: r.text, ...(r.caption === undefined ? {} : { caption: r.caption }) };
    });
    if (!list.length) return;
    this.texts.push({ key, step: opts.step ?? Math.max(this.step, 0), rows: list, ts: Date.now() });
  }

  /**
   * Raises an alert (as W&B's `run.alert`): the server POSTs it to the webhooks of the
   * project's `sdk.alert` rules. Sent with the next batch, so it is as durable as a point.
   */
  alert(a: { title: string; text?: string; level?: AlertLevel }): void {
    if (this.p.mode === "disabled" || this.finishing) return;
    const title = a.title.trim().slice(0, 500);
    if (!title) return this.warnOnce("alert:title", "alert(): title must not be empty — not sent");
    this.alerts.push({ title, text: (a.text ?? "").slice(0, 10_000), level: a.level ?? "info", ts: Date.now() });
    // the server takes at most 100 alerts per batch
    if (this.alerts.length >= 100) this.cut();
  }

  /** an image at a step: PNG bytes, or raw pixels {data, width, height, channels} (bytes 0–255, or floats 0–1) */
  logImage(key: string, image: ImageInput, opts: { step?: number; caption?: string } = {}): void {
    if (this.p.mode === "disabled" || this.finishing || !this.checkKey(key)) return;
    key = rankKey(key, this.rank);
    const png = toPng(image);
    if (typeof png === "string") return this.warnOnce(`img:${key}`, `logImage("${key}"): ${png} — not logged`);
    this.images.push({
      key,
      step: opts.step ?? Math.max(this.step, 0),
      caption: opts.caption,
      width: png.width,
      height: png.height,
      png: Buffer.from(png.bytes).toString("base64"),
      ts: Date.now(),
    });
    this.cut(); // images are big: don't let them pile up in memory
  }

  /**
   * Cuts what is buffered into a batch now instead of at the next tick (every
   * `flushIntervalMs`) and resolves once the write-ahead log has it on disk; online, it is on
   * its way to the server. Not needed in a training loop: the SDK does this on its own.
   */
  async flush(): Promise<void> {
    if (this.p.mode === "disabled" || this.finishing) return;
    this.cut();
    await this.p.wal?.written();
  }

  /**
   * Logs a versioned artifact (a model, a dataset, any files) produced by this run:
   * `{name, type, files | dir, metadata?}`. The record goes to the run directory first, so an
   * offline run (or a server that is down) sends it at `heron sync` / finish(); online it is
   * uploaded now — each file only if the server does not hold its content yet — and resolves
   * with `{version: "v3", digest}` (`version: null` while it waits to be sent). Logging the
   * same files again returns the same version.
   */
  logArtifact(opts: LogArtifactOptions): Promise<LoggedArtifact> {
    if (!this.p.artifacts) return Promise.reject(new Error("logArtifact: this run is disabled"));
    return this.p.artifacts.log(opts);
  }

  /**
   * Downloads an artifact version (`"name"`, `"name:production"`, `"name:v3"`) of this run's
   * project into the local cache ($HERON_HOME/artifacts, by digest: a file already there is
   * not fetched again), checks every file's digest, records that this run used it, and
   * resolves with the folder holding its files.
   */
  async useArtifact(ref: string): Promise<string> {
    if (!this.p.artifacts) throw new Error("useArtifact: this run is disabled");
    return (await this.p.artifacts.use(ref)).path;
  }

  /** online: batches cut but not yet acknowledged by the server (0 once everything logged before the last cut arrived) */
  get unacknowledgedBatches(): number {
    return this.p.sender?.unacknowledged ?? 0;
  }

  /**
   * Resolves once what earlier processes of this run left unsent (see takeover.ts) has reached
   * the server — at once when there was nothing. `init` waits for it only up to
   * `initTimeoutMs`; a caller about to rewind the run by another path (a job's runner does)
   * awaits this first, or the old points could land after its rewind.
   */
  leftoversUploaded(): Promise<void> {
    return this.p.takeover?.done ?? Promise.resolve();
  }

  /**
   * Drops every point after `step` (resuming from a checkpoint): the next log() calls
   * overwrite the tail instead of being ignored as duplicates.
   */
  async rewind(step: number): Promise<void> {
    this.step = step;
    if (this.p.mode === "disabled") return;
    this.cut();
    this.cut({ rewind: { step } });
    await this.p.wal?.written();
  }

  /**
   * Ends the run: everything logged goes to the WAL, then (online) waits until the server
   * acknowledged it all or `timeoutMs` (default `finishTimeoutMs` of init, 30 s) passed. On a
   * timeout it returns anyway: the data stays in `dir`, and one line tells the `heron sync`
   * command that uploads it; the process can exit.
   */
  finish(opts: { state?: RunState; error?: string; timeoutMs?: number } = {}): Promise<void> {
    if (this.finishing) return this.finishing;
    this.end(opts.state ?? "finished", opts.error);
    this.finishing = this.deliver(opts.timeoutMs ?? this.p.finishTimeoutMs);
    return this.finishing;
  }

  /** exit paths: writes the end of the run to the WAL synchronously */
  endNow(state: RunState, error?: string): void {
    if (this.finishing) return;
    this.end(state, error);
    this.p.wal?.flushSync();
    this.finishing = Promise.resolve();
  }

  /** waits (bounded) for the server to acknowledge everything, then closes */
  async deliver(timeoutMs: number): Promise<void> {
    if (this.p.mode === "disabled") return;
    await this.p.wal?.written().catch(() => undefined);
    // queued artifacts (logged while the server was away) get one more try; what fails waits for heron sync
    await this.p.artifacts?.flush().catch(() => undefined);
    if (this.p.sender) {
      const ok = await this.p.sender.drained(timeoutMs);
      // one line, with the command to paste: the process is free to exit, the data is safe on disk
      if (!ok)
        console.warn(
          `[heron] run ${this.id}: not everything reached the server within ${formatSeconds(timeoutMs)}; it is kept in ${this.dir} — upload it with: ${syncCommand(this.dir!)}`,
        );
      // all acknowledged: a process resuming this run later has nothing of ours to upload
      else if (this.dir) writeWriterMeta(this.dir, this.p.wal!.writer, { rank: this.rank, ackedSeq: this.p.sender.ackedSeq });
      this.p.sender.close();
      this.p.takeover?.close();
    }
    this.p.wal?.close();
  }

  private end(state: RunState, error?: string) {
    this.detach();
    for (const t of this.timers) clearInterval(t);
    this.console?.stop();
    this.console = null;
    if (this.p.mode === "disabled") return;
    let summary = Object.keys(this.summary).length ? (JSON.parse(JSON.stringify(this.summary)) as Record<string, unknown>) : undefined;
    if (summary && this.rank > 0) summary = Object.fromEntries(Object.entries(summary).map(([k, v]) => [rankKey(k, this.rank), v]));
    this.cut({ end: { state, ...(error ? { error: error.slice(0, 20_000) } : {}) }, ...(summary ? { summary } : {}) });
    if (this.dir) writeWriterMeta(this.dir, this.p.wal!.writer, { rank: this.rank, lastStep: this.step, state, endedAt: Date.now() });
  }

  private addPoints(obj: Record<string, unknown>, prefix: string, step: number, ts: number): void {
    for (const k in obj) {
      const v = obj[k];
      const key = prefix ? `${prefix}/${k}` : k;
      if (typeof v === "number") {
        // ranks > 0 log their own series (see rankKey); the branch keeps rank 0's path as it was
        const series = this.rank === 0 ? key : rankKey(key, this.rank);
        if (series.length > MAX_KEY || key.length === 0)
          this.warnOnce(`key:${key}`, `log(): metric key "${series.slice(0, 60)}…" must be 1–${MAX_KEY} characters — skipped`);
        else this.pending.push(series, step, v, ts);
      } else if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) this.addPoints(v as Record<string, unknown>, key, step, ts);
      else
        this.warnOnce(
          `type:${key}`,
          `log(): "${key}" must be a number, got ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v} — skipped (other keys were logged)`,
        );
    }
  }

  private logSystem(sample: Record<string, number>) {
    if (this.finishing) return;
    const step = Math.max(0, Math.floor((Date.now() - this.p.startedAt) / 1000));
    const ts = Date.now();
    // sys/<host>/… is per host; what is per process (RSS, tfjs memory) is per rank too
    for (const [key, value] of Object.entries(sample))
      this.pending.push(this.rank > 0 && PER_PROCESS.test(key) ? `${key}@rank${this.rank}` : key, step, value, ts);
    const backend = readTfjs()?.backend ?? null;
    if (backend && backend !== this.tfjsBackend) {
      this.tfjsBackend = backend;
      this.pendingEnv = { ...this.pendingEnv, tfjsBackend: backend };
    }
  }

  private addLogLine(line: RunLogLine) {
    if (this.logs.length >= MAX_LOG_LINES_PER_BATCH) this.droppedLogLines++;
    else this.logs.push(line);
  }

  private updateConfig(values: Record<string, unknown>) {
    if (this.p.mode === "disabled") return;
    // rank 0 owns the config: other ranks of one job would only repeat or contradict it
    if (this.rank !== 0) return this.warnOnce("config-rank", `config.update() on rank ${this.rank} is ignored: rank 0 owns the config`);
    this.pendingConfig = { ...this.pendingConfig, ...(JSON.parse(JSON.stringify(values)) as Record<string, unknown>) };
  }

  private checkKey(key: string): boolean {
    if (typeof key === "string" && key.length > 0 && key.length <= MAX_KEY) return true;
    this.warnOnce(`key:${key}`, `key must be a string of 1–${MAX_KEY} characters, got ${JSON.stringify(key)?.slice(0, 60)}`);
    return false;
  }

  /** cuts everything buffered into sequenced batches: WAL first, then the sender */
  private cut(extra: Partial<WalBatch> = {}): void {
    const wal = this.p.wal;
    if (!wal) return;
    if (this.droppedLogLines) {
      this.logs.push({
        stream: "system",
        line: `[heron] ${this.droppedLogLines} output lines dropped (more than ${MAX_LOG_LINES_PER_BATCH} per ${this.p.flushIntervalMs} ms)`,
        ts: Date.now(),
      });
      this.droppedLogLines = 0;
    }
    const hasExtra =
      this.alerts.length || this.texts.length || this.images.length || this.logs.length || this.pendingConfig || this.pendingEnv || Object.keys(extra).length;
    if (!this.pending.length && !hasExtra) return;
    // the server takes at most MAX_POINTS_PER_BATCH points per batch
    while (this.pending.length > MAX_POINTS_PER_BATCH) this.append({ seq: ++this.seq, packed: this.pending.take(MAX_POINTS_PER_BATCH) });
    const batch: WalBatch = { seq: ++this.seq, ...(this.pending.length ? { packed: this.pending.take() } : {}) };
    if (extra.rewind) batch.rewind = extra.rewind;
    if (this.texts.length) batch.texts = this.texts.splice(0);
    if (this.images.length) batch.images = this.images.splice(0);
    if (this.alerts.length) batch.alerts = this.alerts.splice(0);
    if (this.logs.length) batch.logs = this.logs.splice(0);
    if (this.pendingConfig) batch.config = this.pendingConfig;
    if (this.pendingEnv) batch.environment = this.pendingEnv;
    if (extra.summary) batch.summary = extra.summary;
    if (extra.end) batch.end = extra.end;
    this.pendingConfig = this.pendingEnv = null;
    this.append(batch);
  }

  private append(batch: WalBatch) {
    const bytes = this.p.wal!.append(batch);
    this.p.sender?.enqueue(batch, bytes);
  }

  private every(ms: number, fn: () => void) {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private warnOnce(id: string, message: string) {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    console.warn(`[heron] ${message}`);
  }
}

/** the exact command that uploads a run directory, quoted for a POSIX shell when it needs to be */
export function syncCommand(dir: string): string {
  return `npx heron sync ${/^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, "'\\''")}'`}`;
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function toPng(image: ImageInput): { bytes: Uint8Array; width: number; height: number } | string {
  if (image instanceof Uint8Array) {
    if (image.length < 24 || PNG_SIGNATURE.some((b, i) => image[i] !== b)) return "bytes are not a PNG image";
    const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
    return { bytes: image, width: view.getUint32(16), height: view.getUint32(20) };
  }
  const { data, width, height } = image;
  const channels = image.channels ?? 1;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return "width and height must be positive integers";
  if (data.length !== width * height * channels) return `data has ${data.length} values, expected width × height × channels = ${width * height * channels}`;
  let bytes: Uint8Array;
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) bytes = new Uint8Array(data);
  else {
    bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round((data[i] ?? 0) * 255)));
  }
  return { bytes: encodePng({ width, height, data: bytes, channels, depth: 8 }), width, height };
}
