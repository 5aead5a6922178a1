import crypto from "node:crypto";

import { AppError, type EpochReport, shouldPrune, suggest, type SweepSpec, sweepTrialCount, trialSpec } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";
import type { Logger } from "pino";

import type { JobService } from "../jobs";
import type { Notifier } from "../notifier";
import type { RunService } from "../runs";
import { createControllerLease } from "./lease";
import { historyEntry, readEpochReports, reportsOf, storedSweep, type TrialRow } from "./trials";

export type SweepControllerDeps = { prisma: PrismaClient; metrics: MetricsStore; jobs: JobService; runs: RunService; notifier: Notifier };
export type SweepControllerOptions = {
  /** between turns while some sweep is active */
  tickMs?: number;
  /** between turns with nothing to do (and between a follower's attempts to take the lease) */
  idleTickMs?: number;
  /** the lease outlives a silent leader by this much before another process takes over */
  leaseTtlMs?: number;
};

type SweepRow = { id: string; projectId: string; status: string; spec: unknown; submittedBy: string | null };
type JobRow = { id: string; status: string; runId: string | null; cancelRequested: boolean };

const FINAL_JOB = ["succeeded", "failed", "cancelled"];

/**
 * The sweep controller: one turn reads every active sweep from the database, records what its
 * trials' jobs and runs did (epoch reports, early stopping, how they ended) and queues the next
 * trials up to `parallel`. It keeps no state of its own between turns, and acts only while this
 * process holds the "sweeps" controller lease, so a restart continues where the database says and
 * a second server process stays idle until the first one is gone. Trial indexes are unique per
 * sweep in the database, so even two processes that both believe they lead never create trial i
 * twice. `wake()` runs a turn at once (a job ended, a trial reported); otherwise turns tick.
 */
// Long because it is the controller's one turn in order (hold the lease, settle finished
// trials, prune, top up to `parallel`) plus its timer and wake-ups; the steps share the lease.
export function startSweepController(deps: SweepControllerDeps, log: Logger, opts: SweepControllerOptions = {}) {
  const { prisma, metrics, jobs, runs, notifier } = deps;
  const tickMs = opts.tickMs ?? 250;
  const idleTickMs = opts.idleTickMs ?? 1000;
  const lease = createControllerLease(prisma, "sweeps", `${process.pid}-${crypto.randomBytes(6).toString("hex")}`, opts.leaseTtlMs ?? 5000);
  /** runs of this process's running trials: their points wake the controller (see hooks.ts) */
  const watchedRuns = new Set<string>();

  /**
   * Queues a trial's job exactly once across leaders: the trial is given its job's id first
   * (one conditional write), then the job is created under that id. A leader that dies between
   * the two leaves a trial naming a job that does not exist yet; the next leader creates it
   * under the same id, and a second create of one id is refused by the database, never a
   * second job.
   */
  async function submitTrialJob(s: SweepRow, spec: SweepSpec, t: TrialRow) {
    if (!t.jobId) {
      const id = crypto.randomUUID().replaceAll("-", "");
      const named = await prisma.sweepTrial.updateMany({ where: { id: t.id, jobId: null }, data: { jobId: id } });
      if (named.count === 0) return; // another process named this trial's job first: it queues it
      t.jobId = id;
    }
    try {
      await jobs.submit(s.projectId, trialSpec(spec, t.params as never), { id: t.jobId, group: `sweep-${s.id}`, submittedBy: s.submittedBy });
    } catch (err) {
      if ((err as { code?: unknown }).code === "P2002") return; // created already (by us before a restart, or a peer)
      // the trial's spec was checked at create time; a refusal now is recorded, not retried forever
      const message = err instanceof Error ? err.message : String(err);
      await prisma.sweepTrial.updateMany({
        where: { id: t.id },
        data: { status: "failed", pruneReason: message.slice(0, 2000), finishedAt: new Date() },
      });
      t.status = "failed";
    }
  }

  /** Trial `index`: claimed by inserting its row (unique per sweep), then its job is queued. */
  async function createTrial(s: SweepRow, spec: SweepSpec, trials: TrialRow[], index: number): Promise<TrialRow | null> {
    const params = suggest({ sweep: spec, history: trials.map(historyEntry), trialIndex: index });
    let row: TrialRow;
    try {
      row = await prisma.sweepTrial.create({ data: { sweepId: s.id, index, params: params as object, reports: [] } });
    } catch (err) {
      if ((err as { code?: unknown }).code === "P2002") return null;
      throw err;
    }
    await submitTrialJob(s, spec, row);
    return row;
  }

  async function markRunPruned(runId: string) {
    const u = await prisma.run.updateMany({
      where: { id: runId, status: { in: ["running", "stale", "aborted", "crashed"] } },
      data: { status: "pruned", finishedAt: new Date() },
    });
    if (u.count) notifier.runStatus(runId, "pruned");
  }

  /** New epoch reports: stored, and each judged once by the early-stopping rule while the job runs. */
  async function recordReports(spec: SweepSpec, t: TrialRow, job: JobRow, reports: EpochReport[], trials: TrialRow[]) {
    const stored = reportsOf(t);
    const changed =
      reports.length !== stored.length || reports.some((r, i) => r.value !== stored[i]?.value && !(Number.isNaN(r.value) && stored[i]?.value === null));
    let pruneReason = t.pruneReason;
    if (spec.earlyTerminate && !pruneReason && job.status === "running") {
      const all: Record<string, EpochReport[]> = {};
      for (const other of trials) all[other.id] = other.id === t.id ? reports : reportsOf(other);
      for (const r of reports.slice(stored.length)) {
        const d = shouldPrune({ earlyTerminate: spec.earlyTerminate, goal: spec.metric.goal, reports: all, trialId: t.id, epoch: r.epoch });
        if (d.prune) {
          pruneReason = `epoch ${r.epoch}: ${d.reason}`;
          break;
        }
      }
    }
    if (changed || pruneReason !== t.pruneReason) {
      await prisma.sweepTrial.update({ where: { id: t.id }, data: { reports: reports as object, pruneReason } });
      t.reports = reports;
      t.pruneReason = pruneReason;
    }
    // stopped like a cancel: the runner signals the job, which checkpoints and exits
    if (pruneReason && !job.cancelRequested && !FINAL_JOB.includes(job.status)) {
      await jobs.cancel(job.id).catch((err: unknown) => {
        if (!(err instanceof AppError) || err.code !== "CONFLICT") throw err;
      });
    }
  }

  /** A trial whose job ended: completed (final metric), pruned (last reported), failed or cancelled (no metric). */
  async function finishTrial(t: TrialRow, job: JobRow) {
    const last = reportsOf(t).at(-1)?.value ?? null;
    let status = job.status === "succeeded" ? "completed" : job.status === "failed" ? "failed" : t.pruneReason ? "pruned" : "cancelled";
    let pruneReason = t.pruneReason;
    if (status === "pruned" && job.runId) {
      // a short job can train to the end and finish its run before the stop reaches it (the
      // judgement comes a controller turn after the report): the prune was moot, the trial completed
      const run = await prisma.run.findUnique({ where: { id: job.runId }, select: { status: true } });
      if (run?.status === "finished") {
        status = "completed";
        pruneReason = null;
      }
    }
    const metric = status === "completed" || status === "pruned" ? (last !== null && Number.isFinite(last) ? last : null) : null;
    const u = await prisma.sweepTrial.updateMany({ where: { id: t.id, status: "running" }, data: { status, metric, pruneReason, finishedAt: new Date() } });
    if (u.count === 0) return;
    t.status = status;
    t.metric = metric;
    t.pruneReason = pruneReason;
    if (status === "pruned" && job.runId) await markRunPruned(job.runId);
  }

  async function observe(s: SweepRow, spec: SweepSpec, trials: TrialRow[]) {
    const running = trials.filter((t) => t.status === "running" && t.jobId);
    if (!running.length) return;
    const jobRows = await prisma.job.findMany({
      where: { id: { in: running.map((t) => t.jobId as string) } },
      select: { id: true, status: true, runId: true, cancelRequested: true },
    });
    const jobsById = new Map(jobRows.map((j) => [j.id, j]));
    const runIds = jobRows.map((j) => j.runId).filter((id): id is string => id !== null);
    const runRows = runIds.length ? await prisma.run.findMany({ where: { id: { in: runIds } }, select: { id: true, config: true } }) : [];
    const runsById = new Map(runRows.map((r) => [r.id, r]));
    for (const t of running) {
      const job = jobsById.get(t.jobId as string);
      if (!job) {
        // named but never created (its leader died in between): create it now under that id;
        // a trial that had a run lost its job some other way and fails
        if (!t.runId && s.status !== "cancelled") await submitTrialJob(s, spec, t);
        else {
          await prisma.sweepTrial.updateMany({ where: { id: t.id, status: "running" }, data: { status: "failed", finishedAt: new Date() } });
          t.status = "failed";
        }
        continue;
      }
      if (job.runId) {
        watchedRuns.add(job.runId);
        if (t.runId !== job.runId) {
          await prisma.sweepTrial.update({ where: { id: t.id }, data: { runId: job.runId } });
          t.runId = job.runId;
        }
        // the run's config holds the sweep and the trial's params; checked every turn because
        // the job's SDK merges its own config into the run concurrently (read-modify-write)
        const config = runsById.get(job.runId)?.config as Record<string, unknown> | null | undefined;
        if (config && !(config.sweep && typeof config.sweep === "object"))
          await runs.updateConfig(job.runId, { sweep: { id: s.id, trial: t.index, params: t.params } });
        const reports = await readEpochReports(metrics, job.runId, spec.metric.name);
        await recordReports(spec, t, job, reports, trials);
      }
      if (FINAL_JOB.includes(job.status)) {
        if (job.runId) watchedRuns.delete(job.runId);
        await finishTrial(t, job);
      }
    }
  }

  async function stepSweep(s: SweepRow) {
    const spec = storedSweep(s.spec);
    const trials: TrialRow[] = await prisma.sweepTrial.findMany({ where: { sweepId: s.id }, orderBy: { index: "asc" } });
    // a trial claimed by a process that died before queuing its job: queue it now (same params)
    for (const t of trials) if (t.status === "running" && !t.jobId && s.status !== "cancelled") await submitTrialJob(s, spec, t);
    await observe(s, spec, trials);
    const total = sweepTrialCount(spec);
    if (s.status === "running") {
      let active = trials.filter((t) => t.status === "running").length;
      while (active < spec.parallel && trials.length < total) {
        const created = await createTrial(s, spec, trials, trials.length);
        if (!created) return; // another process took this index: re-read next turn
        trials.push(created);
        active++;
      }
    }
    if ((s.status === "running" || s.status === "paused") && trials.length >= total && trials.every((t) => t.status !== "running")) {
      await prisma.sweep.updateMany({ where: { id: s.id, status: s.status }, data: { status: "finished", finishedAt: new Date() } });
    }
  }

  /** One turn; true when some sweep is active (the next turn comes sooner). */
  async function turn(): Promise<boolean> {
    if (!(await lease.acquire())) {
      watchedRuns.clear();
      return false;
    }
    const sweeps = await prisma.sweep.findMany({
      where: { OR: [{ status: { in: ["running", "paused"] } }, { trials: { some: { status: "running" } } }] },
      orderBy: { createdAt: "asc" },
      select: { id: true, projectId: true, status: true, spec: true, submittedBy: true },
    });
    for (const s of sweeps) {
      try {
        await stepSweep(s);
      } catch (err) {
        // one broken sweep must not stall the others
        log.error({ err, sweepId: s.id }, "sweep turn failed");
      }
    }
    return sweeps.length > 0;
  }

  let timer: NodeJS.Timeout | null = null;
  let busy: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  function schedule(ms: number) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void loop(), ms);
    timer.unref();
  }
  async function loop() {
    timer = null;
    if (stopped) return;
    let active = false;
    busy = turn()
      .then((a) => {
        active = a;
      })
      .catch((err: unknown) => log.error({ err }, "sweep controller turn failed"));
    await busy;
    busy = null;
    if (stopped) return;
    const delay = again ? 0 : active ? tickMs : idleTickMs;
    again = false;
    schedule(delay);
  }
  schedule(0);

  return {
    watchedRuns: watchedRuns as ReadonlySet<string>,
    holder: lease.holder,
    /** runs a turn now (or right after the one in progress) */
    wake() {
      if (stopped) return;
      if (busy) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await busy;
      await lease.release().catch(() => undefined);
    },
  };
}
export type SweepController = ReturnType<typeof startSweepController>;
