// `npm run bench -- sdk`: what the tracking SDK costs the training loop.
// 1. log_call_us: p50 of one run.log() call with a 10-key dict, over 1,000,000 calls, against a
//    real server (a child process), the loop yielding every 10,000 calls as training would.
// 2. train_overhead_pct: the slowdown of MNIST MLP training epochs (runTrainJob's step) logging
//    a 10-key dict every step to an online run vs to a mode:"disabled" run — process CPU, the
//    two trained side by side step by step (see below).
// Last line: {"bench":"sdk","log_call_us":…,"train_overhead_pct":…}
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Batcher, buildModel, loadDataset, Optimizer, selectBackend } from "@heron/core/ml";
import { init, type Run } from "@heron/sdk";
import * as tf from "@tensorflow/tfjs";

import { freePort, startChild } from "../apps/web/src/testing/sdk-helpers";
import { BENCH_BATCH, tenKeys } from "./helpers/ten-keys";

const CALLS = Number(process.env.SDK_BENCH_CALLS ?? 1_000_000);
const EPOCHS = Number(process.env.SDK_BENCH_EPOCHS ?? 20);
const PIN = process.env.SDK_BENCH_PIN !== "0" && os.cpus().length >= 2;
const MIRROR = process.env.SDK_BENCH_MIRROR !== "0";
const AA = process.env.SDK_BENCH_AA === "1";
/** offline: A's run writes only its WAL — the SDK's cost without the socket and the server */
const MODE = process.env.SDK_BENCH_MODE === "offline" ? "offline" : "online";
const PROBE = Number(process.env.SDK_BENCH_PROBE_BLOCKS ?? 30);

const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-sdk-"));
const port = await freePort();
const key = "hk_bench_" + crypto.randomBytes(12).toString("hex");
const startServer = async (name: string) => {
  const child = startChild("server-process.ts", [], { HERON_HOME: path.join(home, name), PORT: String(port), HERON_BOOTSTRAP_API_KEY: key, LOG_LEVEL: "warn" });
  await child.waitFor(/READY/);
  void child.exited.then(({ code, signal }) => {
    if (!stopping.has(child)) console.error(`[bench] server ${name} exited unexpectedly (${code ?? signal}):\n${child.output().slice(-2000)}`);
  });
  return child;
};
const stopping = new Set<unknown>();
let server = await startServer("server-1");
const host = `http://127.0.0.1:${port}`;
/** a process (all its threads) → the last core; false where taskset is missing */
const pin = (pid: number) => {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(os.cpus().length - 1), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
let pinned: boolean;
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
  console.log(
    `log(): ${CALLS} calls × 10 keys — p50 ${p50.toFixed(2)} µs, p99 ${p99.toFixed(2)} µs, mean ${mean.toFixed(2)} µs (incl. cutting + sending batches on this thread); loop ${(loopMs / 1000).toFixed(1)} s`,
  );
  stopping.add(server);
  server.proc.kill("SIGKILL");
  await server.exited;
  server = await startServer("server-2");
  // The server shares this 2-core machine with the training; where taskset exists it is kept
  // on the last core, so it does not take turns with the training thread on its core (this
  // process stays free to use both). SDK_BENCH_PIN=0 leaves placement to the scheduler.
  pinned = PIN && pin(server.proc.pid!);

  // ---- 2. training overhead ----
  // CPU time on this shared VM drifts in regimes of a few hundred ms (a fixed pure-JS loop
  // varies ±13 % round to round: neighbours, frequency), so whole epochs, or even 0.5 s rounds
  // of online and disabled logging one after the other, cannot resolve a 1 % effect. Instead
  // two identical models (same seed, same batches) train side by side: each step index is
  // trained once by learner A, which logs to an online run, and once by learner B, which logs
  // the same dict to a mode:"disabled" run, in ABBA order — milliseconds apart, in the same
  // regime. Each step is timed alone with process CPU (all threads: training, the SDK's WAL
  // writes and their kernel time, the loopback socket). The figure is the slowdown of an
  // epoch: ΣA / ΣB − 1 over EPOCHS epochs, with a 95 % interval from the spread of its
  // per-batch differences.
  // All the SDK's work is charged to A. The online run cuts a batch by count (flushPoints) at
  // the step where the default 0.5 s flush timer would (at the warm-up's step time); from that
  // step on, A trains CHUNK steps in a row and then turns the event loop once — the batch's
  // disk write (libuv pool) and the server's ack complete meanwhile, inside A's window, as they
  // would in a training loop — and B then trains the same CHUNK steps and turns once. Nothing
  // waits idle (waking an idle process costs ~0.2 ms of CPU on this VM, which a busy training
  // loop does not pay). An ack not yet processed after A's chunk is waited for, in A's
  // window, and counted. The other event-loop turns (every ~100 ms, as runTrainJob yields)
  // are taken once per learner, in alternating order. What this can miss: a garbage
  // collection the SDK's allocations bring forward may land in a B step (it allocates a few
  // hundred bytes a step beside the training's tensors).
  const backend = await selectBackend();
  const ds = loadDataset("mnist");
  const BATCH = BENCH_BATCH;
  const [h, w, c] = ds.inputShape;
  const stepsPerEpoch = Math.floor(ds.train.count / BATCH);
  /** one model + optimizer + its own batch buffers, trained the way runTrainJob trains */
  const learner = () => {
    const model = buildModel("mlp-mnist", ds.inputShape, ds.numClasses, { seed: 1 });
    model.fastConv = backend.name === "wasm" || backend.name === "cpu";
    const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, model.params).init();
    const batcher = new Batcher(ds, BATCH);
    let ema = 0;
    /** forward, backward, grad norm + loss read back, Adam — then a 10-key log() */
    const step = (run: Run, step: number) => {
      const { x, y } = batcher.fill(ds.train, null, (step % stepsPerEpoch) * BATCH, BATCH);
      const r = tf.tidy(() => {
        const xt = tf.tensor4d(x, [BATCH, h, w, c]);
        const yt = tf.oneHot(tf.tensor1d(y, "int32"), ds.numClasses);
        return tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(yt, model.forward(xt, { training: true, seed: step }).logits) as tf.Scalar,
          model.trainableWeights,
        );
      });
      const grads = new Map<string, tf.Tensor>();
      for (const [n, v] of model.params) grads.set(n, r.grads[v.name]!);
      const normT = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
      const loss = r.value.dataSync()[0]!;
      const gradNorm = normT.dataSync()[0]!;
      normT.dispose();
      r.value.dispose();
      opt.apply(grads, 1e-3);
      ema = ema * 0.99 + loss * 0.01;
      run.log(tenKeys(step, loss, ema, gradNorm), { step });
    };
    return { step, dispose: () => (opt.dispose(), model.dispose()) };
  };
  type Learner = ReturnType<typeof learner>;
  const a = learner();
  const b = learner();
  const disabled = await init({ project: "bench-sdk", mode: "disabled", ...quiet });
  // warm-up (JIT, XNNPACK caches) and the step time that sets how many steps a 0.5 s batch spans
  const warm = await init({ project: "bench-sdk", host, apiKey: key, dir: path.join(home, "train-warm-up"), ...quiet });
  const warmWall: number[] = [];
  for (let s = 0; s < 300; s++) {
    const t0 = performance.now();
    a.step(warm, s);
    b.step(disabled, s);
    warmWall.push((performance.now() - t0) / 2);
    if (s % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  await warm.finish();
  const stepWallMs = median(warmWall.slice(100));
  const ROUND_STEPS = Math.max(25, Math.min(500, Math.round(500 / stepWallMs)));
  // SDK_BENCH_AA=1: A logs to a disabled run too — a check of the method, which must then
  // show no slowdown (0 inside the interval)
  const online = AA
    ? await init({ project: "bench-sdk", mode: "disabled", ...quiet })
    : await init({
        project: "bench-sdk",
        host,
        apiKey: key,
        dir: path.join(home, "train-online"),
        ...quiet,
        flushIntervalMs: 3_600_000,
        flushPoints: ROUND_STEPS * 10,
        mode: MODE,
      });
  // The server's ingest of a batch runs on the other core while a learner trains; so that it
  // overlaps B's windows as much as A's, a helper process sends the server an equal batch at
  // the start of each of B's cut chunks (the pipe write is charged to B: ~10 µs a batch).
  // SDK_BENCH_MIRROR=0 turns it off; an A/A check or an offline A needs none.
  const mirror =
    MIRROR && !AA && MODE === "online"
      ? spawn(
          process.execPath,
          ["--import", "tsx", path.join(path.dirname(fileURLToPath(import.meta.url)), "helpers", "mirror-logger.ts"), host, key, path.join(home, "mirror")],
          { stdio: ["pipe", "pipe", "inherit"] },
        )
      : null;
  if (mirror) {
    await new Promise<void>((resolve, reject) => {
      mirror.stdout.on("data", (d: Buffer) => d.toString().includes("READY") && resolve());
      mirror.once("exit", (code) => reject(new Error(`mirror logger exited (${code})`)));
    });
    if (pinned) pin(mirror.pid!);
  }
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const TOTAL = EPOCHS * stepsPerEpoch;
  // per SDK batch: CPU ms of the online (A) and disabled (B) windows, split into the chunks
  // that start with a batch cut, the other steps and the event-loop turns
  type Part = "cut" | "step" | "turn";
  const blocks: { a: Record<Part, number>; b: Record<Part, number> }[] = [];
  const zero = () => ({ cut: 0, step: 0, turn: 0 });
  let block = { a: zero(), b: zero() };
  /** an event-loop turn: the SDK's timers and socket events run then */
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const CHUNK = Math.max(2, Math.ceil(20 / stepWallMs)); // ~20 ms between turns while a batch is in flight
  const CUT_CHUNKS = 4; // ~80 ms: the server's ack is back (see late acks)
  let lateAcks = 0;
  let la = a;
  let lb = b;
  /**
   * From the cut step s on, each learner trains n = CUT_CHUNKS × CHUNK steps, turning the event
   * loop after every CHUNK steps (as a training loop yields) — A and B in alternating order
   * from batch to batch. In A's window the batch's disk write (libuv pool) and the server's
   * ack complete meanwhile and are picked up at those turns; an ack still missing at the end
   * is waited for (idle, in A's window) and counted as late.
   */
  const cutChunks = async (s: number, n: number, aFirst: boolean) => {
    for (const w of aFirst ? (["a", "b"] as const) : (["b", "a"] as const)) {
      const c0 = cpuMs();
      if (w === "b") mirror?.stdin!.write(`${ROUND_STEPS}\n`); // the server ingests a batch now, as it does after A's cut
      for (let done = 0; done < n;) {
        const m = Math.min(CHUNK, n - done);
        for (let i = 0; i < m; i++) {
          if (w === "a") la.step(online, s + done + i);
          else lb.step(disabled, s + done + i);
        }
        done += m;
        await turn();
      }
      if (w === "a" && online.unacknowledgedBatches > 0) {
        lateAcks++;
        while (online.unacknowledgedBatches > 0) await new Promise((r) => setTimeout(r, 1));
      }
      block[w].cut += cpuMs() - c0;
    }
  };
  const timed = (l: Learner, run: Run, s: number) => {
    const c0 = cpuMs();
    l.step(run, s);
    return cpuMs() - c0;
  };
  let lastTurn = performance.now();
  /** A − B CPU ms of each pair of ordinary steps (no cut in either) */
  const pairDiffs: number[] = [];
  for (let s = 300, j = 0; s < 300 + TOTAL;) {
    // the learners swap roles every batch, so a difference between the two models (memory
    // placement) cancels out too
    [la, lb] = j % 2 === 0 ? [a, b] : [b, a];
    if ((s - 299) % ROUND_STEPS === 0) {
      // online's pending points reach flushPoints at this step: log() cuts a batch
      const n = Math.min(CUT_CHUNKS * CHUNK, 300 + TOTAL - s);
      await cutChunks(s, n, j % 2 === 0);
      s += n;
      blocks.push(block);
      block = { a: zero(), b: zero() };
      j++;
      lastTurn = performance.now();
      continue;
    }
    const pair = { a: 0, b: 0 };
    for (const w of s % 4 === 0 || s % 4 === 3 ? (["a", "b"] as const) : (["b", "a"] as const))
      pair[w] = w === "a" ? timed(la, online, s) : timed(lb, disabled, s); // ABBA
    block.a.step += pair.a;
    block.b.step += pair.b;
    pairDiffs.push(pair.a - pair.b);
    s++;
    if (performance.now() - lastTurn > 100) {
      for (const w of s % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const)) {
        const c0 = cpuMs();
        await turn();
        block[w].turn += cpuMs() - c0;
      }
      lastTurn = performance.now();
    }
  }
  if (block.b.step > 0) blocks.push(block);

  // The direct measure beside it: the same batches without the training — only the 10-key
  // dicts, log(), the cut, WAL, socket and ack — online vs disabled, ABBA. Their CPU
  // difference is what the SDK itself costs per step on every thread of this process.
  let probeStep = 300 + TOTAL;
  const sdkOnly = async (run: Run): Promise<number> => {
    const c0 = cpuMs();
    for (let i = 0; i < ROUND_STEPS; i++) {
      const s = probeStep++;
      run.log(tenKeys(s, 1 / s), { step: s });
    }
    await run.flush();
    await new Promise((r) => setTimeout(r, 20));
    return cpuMs() - c0;
  };
  const sdkA: number[] = [];
  const sdkB: number[] = [];
  for (let i = 0; i < PROBE; i++) {
    const order = i % 2 === 0 ? [online, disabled, disabled, online] : [disabled, online, online, disabled];
    for (const run of order) (run === online ? sdkA : sdkB).push(await sdkOnly(run));
  }
  mirror?.stdin!.end();
  await online.finish({ timeoutMs: 30_000 });
  await disabled.finish();
  a.dispose();
  b.dispose();

  const sum = (xs: number[]) => xs.reduce((t, x) => t + x, 0);
  const pct = (x: number) => Number((x * 100).toFixed(2));
  const total = (w: "a" | "b") => blocks.map((x) => x[w].cut + x[w].step + x[w].turn);
  const A = total("a");
  const B = total("b");
  const sumB = sum(B);
  /** ΣA/ΣB − 1, with a 95 % interval from the spread of the per-batch differences (t ≈ 1.96) */
  const plain = (() => {
    const d = A.map((x, i) => x - B[i]!);
    const mean = sum(d) / d.length;
    const half = (1.96 * Math.sqrt(sum(d.map((x) => (x - mean) ** 2)) / (d.length - 1))) / Math.sqrt(d.length);
    return { pct: pct(mean / (sumB / B.length)), ci: [pct((mean - half) / (sumB / B.length)), pct((mean + half) / (sumB / B.length))] };
  })();
  // The headline, robust to the VM's spikes: the steps that cut a batch and all event-loop
  // turns — where every batch's work, I/O and callbacks are — count in full; the ordinary
  // steps, where the SDK's only work is log() appending 10 numbers to typed arrays (constant,
  // no allocation, no I/O, nothing that could spike), count as their number × the 5 %-trimmed
  // mean of their A − B differences. Those differences are symmetric noise around that
  // constant, with tails of ±3…13 ms (preemption, page faults, a GC: the same for A and B)
  // that dominate the plain sum's variance. SDK_BENCH_AA=1 checks both estimators at 0.
  const robust = (() => {
    const g = 0.05;
    const sorted = [...pairDiffs].sort((x, y) => x - y);
    const k = Math.floor(g * sorted.length);
    const kept = sorted.slice(k, sorted.length - k);
    const tmean = sum(kept) / kept.length;
    const wins = sorted.map((x) => Math.min(Math.max(x, sorted[k]!), sorted[sorted.length - 1 - k]!));
    const wmean = sum(wins) / wins.length;
    const wvar = sum(wins.map((x) => (x - wmean) ** 2)) / (wins.length - 1);
    const seStep = Math.sqrt(wvar) / ((1 - 2 * g) * Math.sqrt(sorted.length)); // SE of the trimmed mean
    const batchD = blocks.map((x) => x.a.cut + x.a.turn - x.b.cut - x.b.turn);
    const batchMean = sum(batchD) / batchD.length;
    const batchVar = sum(batchD.map((x) => (x - batchMean) ** 2)) / (batchD.length - 1);
    const diff = sum(batchD) + tmean * pairDiffs.length;
    const half = 1.96 * Math.sqrt(batchVar * batchD.length + (seStep * pairDiffs.length) ** 2);
    return { pct: pct(diff / sumB), ci: [pct((diff - half) / sumB), pct((diff + half) / sumB)], stepUs: tmean * 1000 };
  })();
  const part = (w: "a" | "b", k: Part) => sum(blocks.map((x) => x[w][k]));
  const parts = (["cut", "step", "turn"] as const)
    .map((k) => `${k === "cut" ? "chunks that cut a batch" : k === "step" ? "other steps" : "event-loop turns"} ${(part("a", k) - part("b", k)).toFixed(0)} ms`)
    .join(", ");
  const stepCpuMs = sumB / TOTAL;
  const sdkUsPerStep = ((median(sdkA) - median(sdkB)) / ROUND_STEPS) * 1000;
  const sdkPct = (sdkUsPerStep / 1000 / stepCpuMs) * 100;
  console.log(
    `train: MNIST MLP 784-128-10, batch 64, Adam, ${backend.name}; ${EPOCHS} epochs (${TOTAL} steps) trained twice side by side, each step by A (online) and B (disabled) in ABBA order; ` +
      `10 keys logged per step, one SDK batch per ${ROUND_STEPS} steps (0.5 s at ${stepWallMs.toFixed(2)} ms/step), cut chunks of ${CHUNK} steps, late acks ${lateAcks}; a step (B) takes ${stepCpuMs.toFixed(2)} ms process CPU; ${pinned ? "server pinned to the last core" : "not pinned"}${mirror ? ", server load mirrored into B" : ""}${AA ? "; A/A check: A logs to a disabled run too" : MODE === "offline" ? "; A logs offline (WAL only)" : ""}\n` +
      `  slowdown of an epoch, online vs disabled (process CPU): ${robust.pct} % (95 % CI ${robust.ci[0]} … ${robust.ci[1]}; ordinary steps by their trimmed mean, ${robust.stepUs.toFixed(1)} µs a step); plain ΣA/ΣB − 1: ${plain.pct} % (95 % CI ${plain.ci[0]} … ${plain.ci[1]}); ${blocks.length} batches; A − B: ${parts}\n` +
      `  the SDK alone (${PROBE} ABBA blocks of the same batches without training): ${sdkUsPerStep.toFixed(1)} µs CPU per step = ${sdkPct.toFixed(2)} % of a training step`,
  );
  console.log(
    JSON.stringify({
      bench: "sdk",
      log_call_us: Number(p50.toFixed(3)),
      log_call_p99_us: Number(p99.toFixed(3)),
      log_call_mean_us: Number(mean.toFixed(3)),
      train_overhead_pct: robust.pct,
      train_overhead_ci95_pct: robust.ci,
      train_overhead_plain_pct: plain.pct,
      train_overhead_plain_ci95_pct: plain.ci,
      train_steps: TOTAL,
      train_steps_per_batch: ROUND_STEPS,
      train_late_acks: lateAcks,
      train_pinned: pinned,
      train_mirrored: mirror !== null,
      ...(AA ? { check: "A/A" } : MODE === "offline" ? { mode: "offline" } : {}),
      train_step_cpu_ms: Number(stepCpuMs.toFixed(3)),
      train_sdk_cpu_us_per_step: Number(sdkUsPerStep.toFixed(1)),
      train_sdk_cpu_pct: Number(sdkPct.toFixed(3)),
    }),
  );
} finally {
  stopping.add(server);
  server.proc.kill("SIGTERM");
  await server.exited;
  fs.rmSync(home, { recursive: true, force: true });
}
