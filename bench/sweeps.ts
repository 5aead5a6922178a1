// `npm run bench -- sweeps` — the sweep controller's overhead, on SQLite, with one runner slot
// and a fake job that "trains" for BENCH_JOB_MS (default 20 ms):
//  1. controller overhead: a trial's job ends in the runner's executor → the next trial's job
//     is leased to the runner and started (the runner reports the end, the controller is woken,
//     records the trial, suggests and stores trial i+1, submits its job; the queue pushes it).
//     A sweep with parallel 1 makes every gap one such hand-over.
//  2. baseline, same run: the queue alone — N plain jobs queued up front, the gap from one
//     ending to the next starting (what any follow-on job pays without a controller); and
//     plain job.submit → start on an idle runner (the scheduler bench's figure).
// Last line: {"bench":"sweeps","overhead_p50_ms":…,"overhead_p99_ms":…,"baseline_followon_p50_ms":…,…}
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { Lease } from "@heron/core";
import { createFakeExecutor, type Executor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";

import { startTestServer, type TestServer, waitFor } from "../apps/web/src/testing/harness";

const TRIALS = Number(process.env.BENCH_TRIALS ?? 40);
const WARMUP = 3;
const JOB_MS = Number(process.env.BENCH_JOB_MS ?? 20);
const TARGET_P50_MS = 200;
const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** The fake executor, timed: when each job started and when it ended in the runner. */
function timedExecutor() {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  const inner = createFakeExecutor({ durationMs: JOB_MS, onStart: (lease: Lease) => starts.set(lease.jobId, performance.now()) });
  const executor: Executor = {
    start(lease, ctx) {
      const h = inner.start(lease, ctx);
      return { kill: h.kill, done: h.done.then((r) => (ends.set(lease.jobId, performance.now()), r)) };
    },
  };
  return { starts, ends, executor };
}

async function withRunner<T>(fn: (t: TestServer, timed: ReturnType<typeof timedExecutor>, daemon: RunnerDaemon) => Promise<T>): Promise<T> {
  const t = await startTestServer("sqlite");
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-"));
  try {
    await t.api.project.create.mutate({ name: "bench" });
    const { token } = await t.api.runner.createToken.mutate({ name: "r" });
    const timed = timedExecutor();
    const daemon = new RunnerDaemon({ server: t.server.url, token, name: "r", slots: 1, home, executor: timed.executor, logger: pino({ level: "error" }) });
    await daemon.start();
    try {
      return await fn(t, timed, daemon);
    } finally {
      await daemon.stop();
    }
  } finally {
    await t.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Gaps between consecutive jobs (end of i → start of i+1), warm-up dropped. */
function gaps(jobIds: string[], timed: ReturnType<typeof timedExecutor>): number[] {
  const out: number[] = [];
  for (let i = 1; i < jobIds.length; i++) {
    const end = timed.ends.get(jobIds[i - 1]!);
    const start = timed.starts.get(jobIds[i]!);
    if (end === undefined || start === undefined) throw new Error(`job ${i} has no timing`);
    if (i > WARMUP) out.push(start - end);
  }
  return out;
}

const sweepOverhead = await withRunner(async (t, timed) => {
  const sweep = {
    method: "random",
    metric: { name: "test/accuracy", goal: "maximize" },
    parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" } },
    spec: SPEC,
    maxTrials: TRIALS + WARMUP,
    parallel: 1,
    seed: 1,
  };
  const { sweepId } = await t.api.sweep.create.mutate({ projectId: "bench", sweep });
  const done = await waitFor(
    async () => {
      const s = await t.api.sweep.get.query({ sweepId });
      return s.status === "finished" ? s : null;
    },
    180_000,
    "the sweep to finish",
  );
  return gaps(
    done.trials.map((x) => x.jobId!),
    timed,
  );
});
console.log(
  `sweep: trial job end → next trial started p50 ${round(pct(sweepOverhead, 50), 2)} ms, p99 ${round(pct(sweepOverhead, 99), 2)} ms (${sweepOverhead.length} hand-overs)`,
);

const baseline = await withRunner(async (t, timed, daemon) => {
  // the queue alone: every job queued before the runner is free, so each start follows an end
  const first = await t.api.job.submit.mutate({ projectId: "bench", spec: SPEC });
  const ids = [first.jobId];
  for (let i = 1; i < TRIALS + WARMUP; i++) ids.push((await t.api.job.submit.mutate({ projectId: "bench", spec: SPEC })).jobId);
  await waitFor(async () => timed.ends.size === ids.length, 120_000, "the queued jobs to run");
  // starts are in queue order with one slot; sort by start time to be safe
  const byStart = [...ids].sort((a, b) => timed.starts.get(a)! - timed.starts.get(b)!);
  const followOn = gaps(byStart, timed);
  // plain submit → start on an idle runner
  const submitToStart: number[] = [];
  for (let i = 0; i < TRIALS + WARMUP; i++) {
    while (daemon.busySlots > 0) await new Promise((r) => setTimeout(r, 2));
    const t0 = performance.now();
    const { jobId } = await t.api.job.submit.mutate({ projectId: "bench", spec: SPEC });
    await waitFor(async () => timed.starts.has(jobId), 10_000, "the job to start");
    if (i >= WARMUP) submitToStart.push(timed.starts.get(jobId)! - t0);
  }
  return { followOn, submitToStart };
});
console.log(`queue alone: job end → next queued job started p50 ${round(pct(baseline.followOn, 50), 2)} ms, p99 ${round(pct(baseline.followOn, 99), 2)} ms`);
console.log(
  `queue alone: job.submit → started (idle runner) p50 ${round(pct(baseline.submitToStart, 50), 2)} ms, p99 ${round(pct(baseline.submitToStart, 99), 2)} ms`,
);
const p50 = pct(sweepOverhead, 50);
console.log(`target: overhead p50 ≤ ${TARGET_P50_MS} ms — ${p50 <= TARGET_P50_MS ? "met" : "MISSED"}`);
console.log(
  JSON.stringify({
    bench: "sweeps",
    trials: sweepOverhead.length,
    job_ms: JOB_MS,
    overhead_p50_ms: round(p50, 2),
    overhead_p99_ms: round(pct(sweepOverhead, 99), 2),
    baseline_followon_p50_ms: round(pct(baseline.followOn, 50), 2),
    baseline_followon_p99_ms: round(pct(baseline.followOn, 99), 2),
    baseline_submit_p50_ms: round(pct(baseline.submitToStart, 50), 2),
    baseline_submit_p99_ms: round(pct(baseline.submitToStart, 99), 2),
    target_p50_ms: TARGET_P50_MS,
  }),
);
process.exit(0);
