import os from "node:os";
import path from "node:path";
import { io, type Socket } from "socket.io-client";
import type { Logger } from "pino";
import { PROTOCOL_VERSION, type Ack, type ClientToServerEvents, type JobReport, type Lease, type ServerToClientEvents } from "@heron/core";
import type { ExecutionHandle, Executor } from "./executor";
import { describeHost } from "./host-info";

export type DaemonOptions = {
  server: string;
  token: string;
  name?: string;
  queues?: string[];
  /** "auto": one per GPU, or 1 on a CPU host */
  slots?: number | "auto";
  home: string;
  executor: Executor;
  logger: Logger;
  heartbeatMs?: number;
  /** SIGTERM → SIGKILL delay for cancelled jobs */
  killGraceMs?: number;
};

type Running = { lease: Lease; handle: ExecutionHandle; cancelled: boolean; logs: { stream: "stdout" | "stderr" | "system"; line: string }[]; tail: string[] };
type HeronSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const TAIL_LINES = 200;

/**
 * The runner daemon: registers with its capabilities, claims work only when a slot is free
 * (woken by the server's "work:available" push, so no poll interval), runs each job through
 * the Executor, heartbeats its leases, and reports results with the lease's fencing token.
 */
export class RunnerDaemon {
  private socket: HeronSocket | null = null;
  private readonly running = new Map<string, Running>();
  private slots = 1;
  private claiming = false;
  private draining = false;
  private timers: NodeJS.Timeout[] = [];
  /** reports that could not be delivered yet (server down); retried on reconnect */
  private pendingReports: JobReport[] = [];

  constructor(private readonly opts: DaemonOptions) {}

  get busySlots() {
    return this.running.size;
  }

  async start(): Promise<void> {
    const host = await describeHost();
    this.slots = this.opts.slots === "auto" || this.opts.slots === undefined ? Math.max(1, host.gpus.length) : this.opts.slots;
    const socket: HeronSocket = io(this.opts.server, { path: "/socket.io", auth: { token: this.opts.token }, transports: ["websocket"], reconnectionDelayMax: 5000 });
    this.socket = socket;
    socket.on("connect", () => void this.onConnect(host));
    socket.on("connect_error", (err) => this.opts.logger.warn({ err: err.message }, "cannot reach server; retrying"));
    socket.on("work:available", () => void this.claimLoop());
    socket.on("job:cancel", ({ jobId }) => this.cancel(jobId));
    this.timers.push(setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 5000));
    this.timers.push(setInterval(() => this.flushLogs(), 500));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (err) => (err.message.includes("unauthorized") ? reject(new Error(`server refused the runner token: ${err.message}`)) : undefined));
    });
  }

  private async onConnect(host: Awaited<ReturnType<typeof describeHost>>) {
    const ack = await this.emit<{ runnerId: string }>("runner:hello", {
      v: PROTOCOL_VERSION,
      name: this.opts.name ?? os.hostname(),
      ...host,
      slots: this.slots,
      queues: this.opts.queues ?? ["default"],
    });
    if (!ack.ok) return this.opts.logger.error({ error: ack.error }, "server refused hello");
    this.opts.logger.info({ slots: this.slots, backend: host.backend }, "runner registered");
    const reports = this.pendingReports.splice(0);
    for (const r of reports) await this.report(r);
    await this.heartbeat();
    await this.claimLoop();
  }

  private emit<T extends object>(event: keyof ClientToServerEvents, payload: unknown): Promise<Ack<T>> {
    return new Promise((resolve) => {
      if (!this.socket?.connected) return resolve({ ok: false, error: "not connected" });
      (this.socket.timeout(15_000) as unknown as { emit: (e: string, p: unknown, cb: (err: Error | null, a: Ack<T>) => void) => void }).emit(event, payload, (err, a) =>
        resolve(err ? { ok: false, error: `no answer: ${err.message}` } : a),
      );
    });
  }

  /** Claims until the slots are full or the queue is empty. */
  private async claimLoop() {
    if (this.claiming || this.draining) return;
    this.claiming = true;
    try {
      while (!this.draining && this.running.size < this.slots) {
        const ack = await this.emit<{ lease: Lease | null }>("runner:claim", { v: PROTOCOL_VERSION });
        if (!ack.ok || !ack.lease) break;
        this.startJob(ack.lease);
      }
    } finally {
      this.claiming = false;
    }
  }

  private startJob(lease: Lease) {
    const checkpointDir = path.join(this.opts.home, "checkpoints", lease.jobId);
    const entry: Running = { lease, handle: null as unknown as ExecutionHandle, cancelled: false, logs: [], tail: [] };
    entry.handle = this.opts.executor.start(lease, {
      serverUrl: this.opts.server,
      checkpointDir,
      onLog: (stream, line) => {
        entry.logs.push({ stream, line });
        entry.tail.push(line);
        if (entry.tail.length > TAIL_LINES) entry.tail.shift();
      },
    });
    this.running.set(lease.jobId, entry);
    this.opts.logger.info({ jobId: lease.jobId, attempt: lease.attempt }, "job started");
    void this.report({ v: PROTOCOL_VERSION, jobId: lease.jobId, fencingToken: lease.fencingToken, status: "running" });
    void entry.handle.done.then(async ({ exitCode, signal }) => {
      this.flushLogs();
      this.running.delete(lease.jobId);
      const status = entry.cancelled ? "cancelled" : exitCode === 0 ? "succeeded" : "failed";
      const error = status === "failed" ? `exit code ${exitCode ?? "none"}${signal ? ` (signal ${signal})` : ""}\n--- last ${TAIL_LINES} log lines ---\n${entry.tail.join("\n")}` : undefined;
      this.opts.logger.info({ jobId: lease.jobId, status, exitCode }, "job ended");
      await this.report({ v: PROTOCOL_VERSION, jobId: lease.jobId, fencingToken: lease.fencingToken, status, exitCode, error });
      await this.claimLoop();
    });
  }

  private async report(r: JobReport) {
    const ack = await this.emit("job:report", r);
    if (!ack.ok && ack.error === "not connected") this.pendingReports.push(r);
    else if (!ack.ok) this.opts.logger.warn({ jobId: r.jobId, error: ack.error }, "report refused");
  }

  private flushLogs() {
    for (const entry of this.running.values()) {
      if (!entry.logs.length || !this.socket?.connected) continue;
      const lines = entry.logs.splice(0, 5000);
      void this.emit("job:logs", { v: PROTOCOL_VERSION, jobId: entry.lease.jobId, fencingToken: entry.lease.fencingToken, lines });
    }
  }

  private async heartbeat() {
    if (!this.socket?.connected) return;
    const leases = [...this.running.values()].map((r) => ({ jobId: r.lease.jobId, fencingToken: r.lease.fencingToken }));
    const ack = await this.emit<{ stale: string[] }>("runner:heartbeat", { v: PROTOCOL_VERSION, leases });
    if (!ack.ok) return;
    // a lease we lost (expired while we were away) now belongs to another attempt: stop ours
    for (const jobId of ack.stale) {
      const r = this.running.get(jobId);
      if (!r) continue;
      this.opts.logger.warn({ jobId }, "lease lost; stopping the local attempt");
      r.handle.kill("SIGKILL");
    }
  }

  cancel(jobId: string) {
    const r = this.running.get(jobId);
    if (!r) return;
    r.cancelled = true;
    r.handle.kill("SIGTERM");
    const t = setTimeout(() => r.handle.kill("SIGKILL"), this.opts.killGraceMs ?? 10_000);
    void r.handle.done.then(() => clearTimeout(t));
  }

  /** Stops claiming, stops running jobs (their leases expire and they are requeued), disconnects. */
  async stop(): Promise<void> {
    this.draining = true;
    for (const t of this.timers) clearInterval(t);
    for (const r of this.running.values()) r.handle.kill("SIGTERM");
    await Promise.race([Promise.all([...this.running.values()].map((r) => r.handle.done)), new Promise((r) => setTimeout(r, 5000))]);
    for (const r of this.running.values()) r.handle.kill("SIGKILL");
    this.socket?.close();
  }
}
