import os from "node:os";

import {
  type AckSchema,
  type AnswerOf,
  ClaimAckSchema,
  EmptyAckSchema,
  formatIssues,
  JobCancelPushSchema,
  type JobReport,
  JobSpecSchema,
  type Lease,
  parseAck,
  type PayloadOf,
  PROTOCOL_VERSION,
  type Refusal,
  RewindAckSchema,
  RunnerHeartbeatAckSchema,
  RunnerHelloAckSchema,
  type RunnerToServer,
  type ServerToRunner,
} from "@heron/core";
import { io, type Socket } from "socket.io-client";

import { CheckpointUploader, downloadLatestCheckpoint, type Emit, latestLocalStep } from "./checkpoint-sync";
import { withCommandJobs } from "./command-executor";
import { containedPath } from "./contained-path";
import type { DaemonOptions } from "./daemon-options";
import { type ExecutionHandle, type ExecutionResult, EXIT_OK } from "./executor";
import { describeHost } from "./host-info";
import { confineJobData, defaultDataDir } from "./job-data";
import { fetchSourceCheckpoints } from "./source-checkpoints";

export type { DaemonOptions } from "./daemon-options";

/** why the daemon stopped a job (decides what it reports) */
type StopReason = "cancel" | "drain" | "lost";
type Running = {
  lease: Lease;
  handle: ExecutionHandle | null;
  stop: StopReason | null;
  logs: { stream: "stdout" | "stderr" | "system"; line: string }[];
  tail: string[];
  uploader: CheckpointUploader | null;
  ended: Promise<void>;
};
type HeronSocket = Socket<ServerToRunner, RunnerToServer>;
/** what the server answers to E when it accepts */
type Accepted<E extends keyof RunnerToServer> = Extract<AnswerOf<RunnerToServer, E>, { ok: true }>;

const TAIL_LINES = 200;
/** log lines kept per job while the server is unreachable */
const MAX_BUFFERED_LINES = 50_000;

/**
 * The runner daemon: registers with its capabilities, claims work only when a slot is free
 * (woken by the server's "work:available" push, so no poll interval), runs each job through
 * the Executor, heartbeats its leases, syncs checkpoints, and reports results with the
 * lease's fencing token. A lost connection doesn't touch running jobs: the daemon reconnects,
 * says hello again and re-attaches (its heartbeat re-extends the leases that are still its own).
 */
export class RunnerDaemon {
  private socket: HeronSocket | null = null;
  private readonly running = new Map<string, Running>();
  private slots = 1;
  private claiming = false;
  /** the server accepted this connection's hello: claims before that are refused anyway */
  private registered = false;
  private claimAgain = false;
  private draining = false;
  private closed = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** reports that could not be delivered yet (server down); retried on reconnect */
  private pendingReports: JobReport[] = [];

  constructor(private readonly opts: DaemonOptions) {
    // command jobs run as their argv in a child process; every other kind through the given executor
    this.opts = { ...opts, executor: withCommandJobs(opts.executor, { home: opts.home, allowCommands: !!opts.allowCommands }) };
  }

  /** each slot's share of the runner's cores: one job on a 1-slot runner uses them all */
  cpuThreadsPerSlot(): number {
    const env = Number(process.env.HERON_RUNNER_CORES);
    const cores = this.opts.cores ?? (Number.isInteger(env) && env >= 1 ? env : os.availableParallelism());
    return Math.max(1, Math.floor(cores / this.slots));
  }

  get busySlots() {
    return this.running.size;
  }

  async start(): Promise<void> {
    const host = await describeHost();
    this.slots = this.opts.slots === "auto" || this.opts.slots === undefined ? Math.max(1, host.gpus.length) : this.opts.slots;
    const socket: HeronSocket = io(this.opts.server, {
      path: "/socket.io",
      auth: { token: this.opts.token },
      transports: ["websocket"],
      reconnectionDelay: 200,
      reconnectionDelayMax: 2000,
    });
    this.socket = socket;
    socket.on("connect", () => void this.onConnect(host));
    socket.on("disconnect", (reason) => {
      this.registered = false;
      this.opts.logger.warn({ reason }, "disconnected from server; jobs keep running");
      // socket.io does not retry after a server-side disconnect (e.g. a server restarting behind a proxy)
      if (reason === "io server disconnect" && !this.closed) setTimeout(() => !this.closed && socket.connect(), 200);
    });
    socket.on("connect_error", (err) => this.opts.logger.warn({ err: err.message }, "cannot reach server; retrying"));
    socket.on("work:available", () => void this.claimLoop());
    // pushes are checked like acks: a malformed one is logged and ignored
    socket.on("job:cancel", (raw: unknown) => {
      const p = JobCancelPushSchema.safeParse(raw);
      if (p.success) this.cancel(p.data.jobId);
      else this.opts.logger.warn({ error: formatIssues(p.error.issues) }, "ignored a malformed job:cancel from the server");
    });
    this.setHeartbeat(this.opts.heartbeatMs ?? 5000);
    this.timers.push(setInterval(() => this.flushLogs(), 300));
    this.timers.push(setInterval(() => this.syncCheckpoints(), this.opts.checkpointSyncMs ?? 1000));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.on("connect_error", (err) => {
        if (err.message.includes("unauthorized")) {
          socket.close();
          reject(new Error(`server refused the runner token: ${err.message}`));
        }
      });
    });
  }

  private setHeartbeat(ms: number) {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    // each beat also claims: a safety net if a "work:available" push was missed
    this.heartbeatTimer = setInterval(() => void this.heartbeat().then(() => this.claimLoop()), ms);
  }

  private async onConnect(host: Awaited<ReturnType<typeof describeHost>>) {
    const ack = await this.emit(
      "runner:hello",
      {
        v: PROTOCOL_VERSION,
        name: this.opts.name ?? os.hostname(),
        ...host,
        slots: this.slots,
        queues: this.opts.queues ?? ["default"],
        allowCommands: !!this.opts.allowCommands,
      },
      RunnerHelloAckSchema,
    );
    if (!ack.ok) return this.opts.logger.error({ error: ack.error }, "server refused hello");
    this.registered = true;
    if (!this.opts.heartbeatMs && ack.heartbeatMs) this.setHeartbeat(ack.heartbeatMs);
    this.opts.logger.info({ slots: this.slots, backend: host.backend, running: this.running.size }, "runner registered");
    if (this.draining) await this.emit("runner:drain", { v: PROTOCOL_VERSION }, EmptyAckSchema);
    // re-attach: the heartbeat re-extends leases still ours and names the ones we lost meanwhile
    await this.heartbeat();
    const reports = this.pendingReports.splice(0);
    for (const r of reports) await this.report(r);
    await this.claimLoop();
  }

  /** the server's raw ack, or a "not connected" refusal; never trusted as is (see emit) */
  private readonly emitRaw: Emit = (event, payload) =>
    new Promise((resolve) => {
      const refusal: Refusal = { ok: false, error: "not connected" };
      if (!this.socket?.connected) return resolve(refusal);
      const timed = this.socket.timeout(15_000);
      // socket.io's typings cannot tie a generic event name to its own payload (a correlated
      // union), so the typed emit is widened here, once; Emit's signature checks every caller
      const send = timed.emit.bind(timed) as (event: string, payload: unknown, ack: (err: Error | null, answer: unknown) => void) => void;
      send(event, payload, (err, a) => resolve(err ? refusal : a));
    });

  /** sends an event and checks the ack against its schema: a malformed ack is a refusal */
  private async emit<E extends keyof RunnerToServer>(
    event: E,
    payload: PayloadOf<RunnerToServer, E>,
    schema: AckSchema<Accepted<E>>,
  ): Promise<Accepted<E> | Refusal> {
    return parseAck(schema, await this.emitRaw(event, payload));
  }

  /** Claims until the slots are full or the queue is empty. A push during a claim triggers one more round. */
  private async claimLoop(): Promise<void> {
    // a "work:available" push can arrive between connect and the hello's answer
    if (this.draining || !this.registered) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    try {
      do {
        this.claimAgain = false;
        while (!this.draining && this.running.size < this.slots) {
          const ack = await this.emit("runner:claim", { v: PROTOCOL_VERSION }, ClaimAckSchema);
          if (!ack.ok) {
            if (ack.error !== "not connected") this.opts.logger.warn({ error: ack.error }, "claim refused");
            break;
          }
          if (!ack.lease) break;
          // the envelope is checked; a spec this runner cannot parse fails the job (not the claim loop)
          const spec = JobSpecSchema.safeParse(ack.lease.spec);
          if (spec.success) this.startJob({ ...ack.lease, spec: spec.data });
          else
            await this.report({
              v: PROTOCOL_VERSION,
              jobId: ack.lease.jobId,
              fencingToken: ack.lease.fencingToken,
              status: "failed",
              error: `the job spec cannot run on this runner: ${formatIssues(spec.error.issues)}`,
            });
        }
      } while (this.claimAgain && !this.draining && this.running.size < this.slots);
    } finally {
      this.claiming = false;
    }
  }

  private startJob(lease: Lease) {
    const entry: Running = { lease, handle: null, stop: null, logs: [], tail: [], uploader: null, ended: Promise.resolve() };
    this.running.set(lease.jobId, entry);
    entry.ended = this.runJob(entry).catch((err: Error) => {
      this.opts.logger.error({ jobId: lease.jobId, err: err.message }, "job supervision failed");
      this.running.delete(lease.jobId);
    });
  }

  private log(entry: Running, stream: "stdout" | "stderr" | "system", line: string) {
    if (entry.logs.length < MAX_BUFFERED_LINES) entry.logs.push({ stream, line });
    entry.tail.push(line);
    if (entry.tail.length > TAIL_LINES) entry.tail.shift();
  }

  private async runJob(entry: Running) {
    let lease: Lease;
    try {
      lease = { ...entry.lease, spec: confineJobData(entry.lease.spec, this.opts.dataDir ?? defaultDataDir(this.opts.home)) };
    } catch (err) {
      return this.failBeforeStart(entry, (err as Error).message);
    }
    const held = { jobId: lease.jobId, fencingToken: lease.fencingToken };
    const checkpointDir = containedPath(this.opts.home, "checkpoints", lease.jobId);
    // a requeued attempt may land on a host that never saw this job: fetch the server's newest checkpoint
    let stored: number | null = null;
    try {
      stored = await downloadLatestCheckpoint(this.emitRaw, held, checkpointDir);
      if (stored !== null) this.log(entry, "system", `[runner] downloaded checkpoint at step ${stored} from the server`);
    } catch (err) {
      this.log(entry, "system", `[runner] could not download the server's checkpoint (${(err as Error).message}); using what this host has`);
    }
    // a teacher/base checkpoint of another job may have been trained on another host
    const missing = await fetchSourceCheckpoints(this.emitRaw, lease, this.opts.home, (line) => this.log(entry, "system", line), this.opts.server);
    if (missing) return this.failBeforeStart(entry, missing);
    entry.uploader = new CheckpointUploader(this.emitRaw, held, checkpointDir, stored ?? latestLocalStep(checkpointDir), (err) =>
      this.opts.logger.warn({ jobId: lease.jobId, err: err.message }, "checkpoint upload failed; will retry"),
    );
    this.log(entry, "system", `[runner] attempt ${lease.attempt} on ${os.hostname()} (${this.opts.name ?? ""})`);
    this.opts.logger.info({ jobId: lease.jobId, attempt: lease.attempt, fencingToken: lease.fencingToken }, "job started");
    // awaited later, before the final report: the two must not race on the server
    const startedReport = this.report({ v: PROTOCOL_VERSION, ...held, status: "running" });
    entry.handle = this.opts.executor.start(lease, {
      serverUrl: this.opts.server,
      checkpointDir,
      cpuThreads: this.cpuThreadsPerSlot(),
      onLog: (stream, line) => this.log(entry, stream, line),
      rewind: async (step) => {
        const ack = await this.emit("job:rewind", { v: PROTOCOL_VERSION, ...held, step }, RewindAckSchema);
        if (!ack.ok) throw new Error(ack.error);
      },
    });
    if (entry.stop) entry.handle.kill("SIGTERM"); // cancelled or drained while we prepared
    const result = await entry.handle.done;
    this.flushLogs();
    if (entry.stop !== "lost") await entry.uploader.syncFinal();
    this.running.delete(lease.jobId);
    await startedReport;
    const report = this.outcome(entry, result);
    this.opts.logger.info({ jobId: lease.jobId, status: report?.status ?? "lost", exitCode: result.exitCode }, "job ended");
    if (report) await this.report(report);
    await this.claimLoop();
  }

  /** The job cannot start here at all (a missing source checkpoint): failed with that reason, not run. */
  private async failBeforeStart(entry: Running, error: string) {
    const { lease } = entry;
    this.log(entry, "system", `[runner] ${error}`);
    this.running.delete(lease.jobId);
    // awaited, so the lines land before the report ends the lease that fences them
    await this.emit(
      "job:logs",
      { v: PROTOCOL_VERSION, jobId: lease.jobId, fencingToken: lease.fencingToken, lines: entry.logs.splice(0, 5000) },
      EmptyAckSchema,
    );
    this.opts.logger.warn({ jobId: lease.jobId, error }, "job cannot start");
    await this.report({ v: PROTOCOL_VERSION, jobId: lease.jobId, fencingToken: lease.fencingToken, status: "failed", error });
    await this.claimLoop();
  }

  /** What to report for an ended attempt (none when the lease was already lost). */
  private outcome(entry: Running, { exitCode, signal }: ExecutionResult): JobReport | null {
    const base = { v: PROTOCOL_VERSION, jobId: entry.lease.jobId, fencingToken: entry.lease.fencingToken, exitCode } as const;
    if (entry.stop === "lost") return null;
    if (entry.stop === "cancel") return { ...base, status: "cancelled" };
    if (exitCode === EXIT_OK) return { ...base, status: "succeeded" };
    if (entry.stop === "drain") return { ...base, status: "requeued" };
    const error = `exit code ${exitCode ?? "none"}${signal ? ` (signal ${signal})` : ""}\n--- last ${TAIL_LINES} log lines ---\n${entry.tail.join("\n")}`;
    return { ...base, status: "failed", error };
  }

  private async report(r: JobReport) {
    const ack = await this.emit("job:report", r, EmptyAckSchema);
    if (!ack.ok && ack.error === "not connected") this.pendingReports.push(r);
    else if (!ack.ok) this.opts.logger.warn({ jobId: r.jobId, error: ack.error }, "report refused");
  }

  private flushLogs() {
    if (!this.socket?.connected) return;
    for (const entry of this.running.values()) {
      if (!entry.logs.length) continue;
      const lines = entry.logs.splice(0, 5000);
      void this.emit("job:logs", { v: PROTOCOL_VERSION, jobId: entry.lease.jobId, fencingToken: entry.lease.fencingToken, lines }, EmptyAckSchema);
    }
  }

  private syncCheckpoints() {
    if (!this.socket?.connected) return;
    for (const entry of this.running.values()) if (!entry.stop) void entry.uploader?.sync();
  }

  private async heartbeat() {
    if (!this.socket?.connected) return;
    const leases = [...this.running.values()].map((r) => ({ jobId: r.lease.jobId, fencingToken: r.lease.fencingToken }));
    const ack = await this.emit("runner:heartbeat", { v: PROTOCOL_VERSION, leases }, RunnerHeartbeatAckSchema);
    if (!ack.ok) {
      if (ack.error !== "not connected") this.opts.logger.warn({ error: ack.error }, "heartbeat refused");
      return;
    }
    // a lease we lost (expired while we were away) now belongs to another attempt: stop ours
    for (const jobId of ack.stale) {
      const r = this.running.get(jobId);
      if (!r) continue;
      this.opts.logger.warn({ jobId }, "lease lost; stopping the local attempt");
      r.stop = "lost";
      r.handle?.kill("SIGKILL");
    }
    for (const jobId of ack.cancel ?? []) this.cancel(jobId);
  }

  /** SIGTERM, then SIGKILL after the grace period → reported `cancelled`. */
  cancel(jobId: string) {
    const r = this.running.get(jobId);
    if (!r || r.stop) return;
    this.opts.logger.info({ jobId }, "cancelling job");
    this.log(r, "system", "[runner] cancel requested: stopping the job");
    r.stop = "cancel";
    this.terminate(r, this.opts.killGraceMs ?? 4000);
  }

  private terminate(r: Running, graceMs: number) {
    r.handle?.kill("SIGTERM");
    const t = setTimeout(() => r.handle?.kill("SIGKILL"), graceMs);
    void r.ended.then(() => clearTimeout(t));
  }

  /**
   * Drain (SIGTERM): no new work; running jobs are asked to stop (they checkpoint), get the
   * grace period, and are reported `requeued` (not failed) with their newest checkpoint
   * uploaded, so another runner resumes them. Then the daemon disconnects.
   */
  async stop(): Promise<void> {
    this.draining = true;
    await this.emit("runner:drain", { v: PROTOCOL_VERSION }, EmptyAckSchema);
    for (const r of this.running.values()) {
      if (r.stop) continue;
      r.stop = "drain";
      this.log(r, "system", "[runner] runner draining: stopping the job; it will be requeued");
      this.terminate(r, this.opts.drainGraceMs ?? 30_000);
    }
    await Promise.all([...this.running.values()].map((r) => r.ended));
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const t of this.timers) clearInterval(t);
    this.closed = true;
    this.socket?.close();
  }
}
