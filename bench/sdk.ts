// `npm run bench -- sdk`: what the tracking SDK costs the training loop.
// 1. log_call_us: p50 of one run.log() call with a 10-key dict, over 1,000,000 calls, against a
//    real server (a child process), the loop yielding every 10,000 calls as training would.
// 2. train_overhead_pct: an MNIST MLP epoch through @heron/core/ml's runTrainJob logging every
//    step with an online run vs the same with mode "disabled" (alternating ABBA, medians).
// Last line: {"bench":"sdk","log_call_us":…,"train_overhead_pct":…}
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { JobContext } from "@heron/core";
import { init, type Run } from "@heron/core/node";
import { runTrainJob } from "@heron/core/ml";
import { freePort, startChild } from "../apps/web/src/testing/sdk-helpers";

const CALLS = Number(process.env.SDK_BENCH_CALLS ?? 1_000_000);
const TRAIN_SAMPLES = Number(process.env.SDK_BENCH_TRAIN_SAMPLES ?? 60_000);
const REPS = Number(process.env.SDK_BENCH_REPS ?? 5);

const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-sdk-"));
const port = await freePort();
const key = "hk_bench_" + crypto.randomBytes(12).toString("hex");
const startServer = async (name: string) => {
  const child = startChild("server-process.ts", [], { HERON_HOME: path.join(home, name), PORT: String(port), HERON_BOOTSTRAP_API_KEY: key, LOG_LEVEL: "warn" });
  await child.waitFor(/READY/);
  return child;
};
let server = await startServer("server-1");
const host = `http://127.0.0.1:${port}`;
const quiet = { captureSystem: false, captureConsole: false, captureExit: false } as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  // ---- 1. log() cost ----
  const run = await init({ project: "bench-sdk", host, apiKey: key, dir: path.join(home, "log-call"), ...quiet });
  const times = new Float64Array(CALLS);
  const metrics: Record<string, number> = {};
  const keys = Array.from({ length: 10 }, (_, i) => `train/metric_${i}`);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    for (let k = 0; k < 10; k++) metrics[keys[k]!] = i * 0.001 + k;
    const a = performance.now();
    run.log(metrics);
    times[i] = performance.now() - a;
    if (i % 10_000 === 9_999) await new Promise((r) => setImmediate(r));
  }
  const loopMs = performance.now() - t0;
  const sorted = Array.from(times).sort((a, b) => a - b);
  const p50 = sorted[Math.floor(CALLS / 2)]! * 1000;
  const p99 = sorted[Math.floor(CALLS * 0.99)]! * 1000;
  const mean = (times.reduce((s, x) => s + x, 0) / CALLS) * 1000;
  // 10M points take the server a while to ingest: don't wait; a fresh server for part 2 so
  // its backlog does not slow the training measured there
  await run.finish({ timeoutMs: 1_000 });
  console.log(`log(): ${CALLS} calls × 10 keys — p50 ${p50.toFixed(2)} µs, p99 ${p99.toFixed(2)} µs, mean ${mean.toFixed(2)} µs (incl. cutting + sending batches on this thread); loop ${(loopMs / 1000).toFixed(1)} s`);
  server.proc.kill("SIGKILL");
  await server.exited;
  server = await startServer("server-2");

  // ---- 2. training overhead ----
  const spec = { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 1, batchSize: 64, lr: 0.002, optimizer: "adam", momentum: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, schedule: "constant", warmupSteps: 0, gradAccumulation: 1, maxTrainSamples: TRAIN_SAMPLES, maxTestSamples: 500, seed: 1, logEvery: 1 } as const;
  let inLog = 0;
  /** wall ms and CPU ms (user + system, all threads of this process) of one epoch */
  const train = async (mode: "online" | "disabled"): Promise<{ wall: number; cpu: number }> => {
    inLog = 0;
    const r: Run = await init({ project: "bench-sdk", host, apiKey: key, mode, dir: path.join(home, `train-${mode}-${Date.now()}`), ...quiet });
    const ctx: JobContext = {
      log: (m, step) => {
        const a = performance.now();
        r.log(m, { step });
        inLog += performance.now() - a;
      },
      logText: (k, rows, step) => r.logText(k, rows, { step }),
      progress: () => undefined,
      setSummary: (v) => Object.assign(r.summary, v),
      info: () => undefined,
      warn: () => undefined,
      checkpointDir: path.join(home, `ckpt-${mode}-${Date.now()}`),
      signal: new AbortController().signal,
    };
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    await runTrainJob(spec as never, ctx);
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - start;
    await r.finish();
    return { wall: ms, cpu: (cpu.user + cpu.system) / 1000 };
  };
  await train("disabled"); // warm-up: dataset load, backend init, JIT
  // Adjacent pairs in alternating order. The machine is shared (other engineers' tests run
  // beside this): wall time swings by ±50 %, so the headline is CPU time of this process
  // (training thread + the SDK's I/O threads), median of the per-pair ratios; wall is shown too.
  const off: { wall: number; cpu: number }[] = [];
  const on: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < REPS; i++) {
    if (i % 2 === 0) (off.push(await train("disabled")), on.push(await train("online")));
    else (on.push(await train("online")), off.push(await train("disabled")));
  }
  const cpuRatios = on.map((x, i) => x.cpu / off[i]!.cpu - 1);
  const wallRatios = on.map((x, i) => x.wall / off[i]!.wall - 1);
  const probe = await train("online");
  const inLogPct = (inLog / probe.wall) * 100;
  const overhead = median(cpuRatios) * 100;
  const fmt = (xs: number[]) => xs.map((r) => (r * 100).toFixed(1)).join(", ");
  console.log(`train epoch (${TRAIN_SAMPLES} MNIST samples, MLP 784-128-10, batch 64, log every step): CPU disabled ${off.map((x) => x.cpu.toFixed(0)).join("/")} ms, online ${on.map((x) => x.cpu.toFixed(0)).join("/")} ms → overhead ${overhead.toFixed(2)} % (median of paired ratios ${fmt(cpuRatios)}); wall ratios ${fmt(wallRatios)} %; time inside log() ${inLogPct.toFixed(3)} % of an epoch`);
  console.log(JSON.stringify({ bench: "sdk", log_call_us: Number(p50.toFixed(3)), log_call_p99_us: Number(p99.toFixed(3)), log_call_mean_us: Number(mean.toFixed(3)), train_overhead_pct: Number(overhead.toFixed(2)), train_overhead_wall_pct: Number((median(wallRatios) * 100).toFixed(2)), train_log_time_pct: Number(inLogPct.toFixed(3)) }));
} finally {
  server.proc.kill("SIGTERM");
  await server.exited;
  fs.rmSync(home, { recursive: true, force: true });
}
