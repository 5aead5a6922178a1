import { io, type Socket } from "socket.io-client";
import { PROTOCOL_VERSION, encodeValue, type ClientToServerEvents, type RunInitAck, type ServerToClientEvents, type WireMetricPoint } from "../../index";
import { flattenMetrics } from "./flatten";

export type InitOptions = {
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  group?: string;
  notes?: string;
  host?: string;
  apiKey?: string;
  mode?: "online" | "offline" | "disabled";
  resume?: "never" | "allow" | "must";
  id?: string;
  dir?: string;
  rank?: number;
  environment?: Record<string, unknown>;
};

type HeronSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * First tracking client (foundation): init/log/finish over socket.io with per-run sequence
 * numbers and acks. The full SDK (write-ahead log, reconnect + replay, offline sync) replaces
 * the transport behind this same API.
 */
export class Run {
  readonly id: string;
  readonly url: string;
  readonly summary: Record<string, unknown> = {};
  private step = -1;
  private seq: number;
  private buffer: WireMetricPoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<unknown> = Promise.resolve();
  readonly config: { update: (c: Record<string, unknown>) => void };

  constructor(
    private readonly socket: HeronSocket,
    ack: Extract<RunInitAck, { ok: true }>,
    private readonly writer: string,
  ) {
    this.id = ack.runId;
    this.url = ack.url;
    this.step = ack.lastStep ?? -1;
    this.seq = ack.lastSeq;
    this.config = {
      update: (c) => {
        socket.emit("run:config", { v: PROTOCOL_VERSION, runId: this.id, config: c }, () => undefined);
      },
    };
  }

  /** Logs scalars; nested objects become "a/b" keys. Non-numeric values are reported and skipped. */
  log(metrics: Record<string, unknown>, opts: { step?: number } = {}): void {
    const step = opts.step ?? this.step + 1;
    this.step = Math.max(this.step, step);
    const ts = Date.now();
    for (const [key, value] of Object.entries(flattenMetrics(metrics))) {
      if (typeof value !== "number") {
        console.warn(`[heron] ${key}: expected a number, got ${typeof value} — not logged`);
        continue;
      }
      this.summary[key] = value;
      this.buffer.push({ key, step, value: encodeValue(value), ts });
    }
    if (this.buffer.length >= 1000) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 250);
  }

  private flush(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return this.inflight;
    const points = this.buffer;
    this.buffer = [];
    const seq = ++this.seq;
    const send = () =>
      new Promise<void>((resolve, reject) => {
        this.socket.timeout(30_000).emit("run:log", { v: PROTOCOL_VERSION, runId: this.id, seq, writer: this.writer, points }, (err, ack) => {
          if (err) return reject(err);
          if (!ack.ok) return reject(new Error(ack.error));
          resolve();
        });
      });
    this.inflight = this.inflight.then(send, send);
    return this.inflight;
  }

  async finish(opts: { state?: "finished" | "crashed" | "aborted"; error?: string } = {}): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.socket.timeout(30_000).emit("run:finish", { v: PROTOCOL_VERSION, runId: this.id, state: opts.state ?? "finished", error: opts.error }, (err, ack) => {
        if (err) return reject(err);
        if (!ack.ok) return reject(new Error(ack.error));
        resolve();
      });
    });
    this.socket.close();
  }
}

export async function init(opts: InitOptions): Promise<Run> {
  const host = opts.host ?? process.env.HERON_HOST ?? "http://127.0.0.1:3000";
  const apiKey = opts.apiKey ?? process.env.HERON_API_KEY;
  const socket: HeronSocket = io(host, { path: "/socket.io", auth: { token: apiKey }, transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(new Error(`cannot connect to Heron at ${host}: ${err.message}`)));
  });
  const ack = await new Promise<RunInitAck>((resolve) =>
    socket.emit(
      "run:init",
      { v: PROTOCOL_VERSION, project: opts.project, id: opts.id, resume: opts.resume ?? "never", name: opts.name, config: opts.config, tags: opts.tags, group: opts.group, notes: opts.notes, host: opts.environment?.hostname as string | undefined, environment: opts.environment, rank: opts.rank },
      resolve,
    ),
  );
  if (!ack.ok) {
    socket.close();
    throw new Error(`heron init failed: ${ack.error}`);
  }
  return new Run(socket, ack, String(opts.rank ?? 0));
}
