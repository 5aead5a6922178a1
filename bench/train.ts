// Training throughput (samples/s) of the reference models on the backend a runner would pick,
// against PyTorch on the CPU with the same model, batch and optimizer in the same run, each
// at its best thread count: Heron with 1 thread and with data-parallel replicas over every
// core (ml/parallel/), PyTorch with 1 thread and with every core.
// The step is the trainer's: batch normalised from uint8 storage, forward, backward (summed
// over the replicas' shards), global grad norm (read back), Adam update. Run: npx tsx bench/train.ts
import { execFileSync, spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";

import { Batcher, buildModel, GradPool, loadDataset, Optimizer, selectBackend } from "@heron/core/ml";
import * as tf from "@tensorflow/tfjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CORES = availableParallelism();

type Key = "mlp" | "cnn" | "deepcnn";
type Case = { key: Key; model: "mlp-mnist" | "light-cnn" | "deep-cnn"; shape: [number, number, number]; batch: number };
const cases: Case[] = [
  { key: "mlp", model: "mlp-mnist", shape: [28, 28, 1], batch: 64 },
  { key: "cnn", model: "light-cnn", shape: [32, 32, 3], batch: 128 },
  { key: "deepcnn", model: "deep-cnn", shape: [32, 32, 3], batch: 128 },
];

async function heron(c: Case, backend: string, threads: number): Promise<number> {
  const ds = loadDataset("synthetic", { synthetic: { trainSize: c.batch * 16, testSize: 1, inputShape: c.shape } });
  const model = buildModel(c.model, c.shape, 10, { seed: 0 });
  model.fastConv = backend === "wasm" || backend === "cpu";
  const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, model.params).init();
  const batcher = new Batcher(ds, c.batch);
  const pool = threads > 1 ? await GradPool.start({ threads, model, trainable: model.params, maxBatch: c.batch, backend }) : undefined;
  let i = 0;
  const step = async () => {
    const start = (i++ % 16) * c.batch;
    const { x, y } = batcher.fill(ds.train, null, start, c.batch);
    let grads: Map<string, tf.Tensor>;
    let value: tf.Tensor;
    if (pool) ({ grads, value } = await pool.grads(x, y, c.batch, i, 1));
    else {
      const r = tf.tidy(() => {
        const xt = tf.tensor4d(x, [c.batch, ...c.shape]);
        const yt = tf.oneHot(tf.tensor1d(y, "int32"), 10);
        return tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(yt, model.forward(xt, { training: true, seed: i }).logits) as tf.Scalar,
          model.trainableWeights,
        );
      });
      grads = new Map<string, tf.Tensor>();
      for (const [n, v] of model.params) grads.set(n, r.grads[v.name]!);
      value = r.value;
    }
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
    norm.dataSync();
    value.dataSync();
    norm.dispose();
    value.dispose();
    opt.apply(grads, 1e-3);
  };
  for (let k = 0; k < 3; k++) await step(); // warm-up (JIT, XNNPACK operator caches)
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await step();
    n++;
  }
  const sps = (n * c.batch) / ((performance.now() - t0) / 1000);
  await pool?.close();
  model.dispose();
  opt.dispose();
  return sps;
}

const TORCH = String.raw`
import json, os, sys, time, torch, torch.nn as nn
torch.manual_seed(0)
secs = float(sys.argv[1])
# Debian's build defaults to 1 thread here; give it every core so the baseline is its best
if len(sys.argv) > 2: torch.set_num_threads(int(sys.argv[2]))
def light():
    return nn.Sequential(nn.Conv2d(3,16,3,padding=1), nn.ReLU(), nn.MaxPool2d(2,2), nn.Conv2d(16,16,3,padding=1), nn.ReLU(), nn.MaxPool2d(2,2),
                         nn.Flatten(), nn.Linear(1024,256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256,10))
def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784,128), nn.ReLU(), nn.Linear(128,10))
def deep():
    return nn.Sequential(nn.Conv2d(3,128,3,padding=1), nn.ReLU(), nn.Conv2d(128,64,3,padding=1), nn.ReLU(), nn.MaxPool2d(2,2),
                         nn.Conv2d(64,64,3,padding=1), nn.ReLU(), nn.Conv2d(64,32,3,padding=1), nn.ReLU(), nn.MaxPool2d(2,2),
                         nn.Flatten(), nn.Linear(2048,512), nn.ReLU(), nn.Dropout(0.1), nn.Linear(512,10))
out = {"threads": torch.get_num_threads(), "version": torch.__version__}
for key, make, shape, bs in [("mlp", mlp, (1,28,28), 64), ("cnn", light, (3,32,32), 128), ("deepcnn", deep, (3,32,32), 128)]:
    m = make(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    xs = torch.randn(16, bs, *shape); ys = torch.randint(0, 10, (16, bs))
    def step(i):
        opt.zero_grad(); loss = nn.functional.cross_entropy(m(xs[i % 16]), ys[i % 16]); loss.backward()
        gn = torch.sqrt(sum((p.grad ** 2).sum() for p in m.parameters())).item(); opt.step(); return loss.item()
    for i in range(3): step(i)
    n = 0; t0 = time.perf_counter()
    while time.perf_counter() - t0 < secs: step(n); n += 1
    out[key] = n * bs / (time.perf_counter() - t0)
# the kernel ceiling: deep-cnn's largest layer forward (3x3, 128 -> 64 channels, 32x32, batch 128)
with torch.no_grad():
    x = torch.randn(128, 128, 32, 32); w = torch.randn(64, 128, 3, 3)
    for i in range(2): nn.functional.conv2d(x, w, padding=1)
    n = 0; t0 = time.perf_counter()
    while time.perf_counter() - t0 < min(secs, 3): nn.functional.conv2d(x, w, padding=1); n += 1
    out["conv_gmacs"] = n * 128 * 32 * 32 * 9 * 128 * 64 / (time.perf_counter() - t0) / 1e9
print(json.dumps(out))
`;

type TorchRun = Record<Key, number> & { threads: number; version: string; conv_gmacs: number };

/**
 * The same conv forward on our backend, one thread: XNNPACK's 128-bit wasm SIMD (no FMA) is
 * the fastest kernel Heron has on a CPU host, so its rate bounds every conv model's speed.
 */
function convPeakGmacs(): number {
  const [x, w] = [tf.randomNormal([128, 32, 32, 128]) as tf.Tensor4D, tf.randomNormal([3, 3, 128, 64]) as tf.Tensor4D];
  // the read-back stays inside a block: tidy would walk a returned typed array element by element
  const conv = () => tf.tidy(() => void tf.conv2d(x, w, 1, "same").dataSync());
  for (let i = 0; i < 2; i++) conv();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < Math.min(SECONDS, 3) * 1000) {
    conv();
    n++;
  }
  tf.dispose([x, w]);
  return (n * 128 * 32 * 32 * 9 * 128 * 64) / ((performance.now() - t0) / 1000) / 1e9;
}

function torchBaseline(): { best: Record<Key, number>; threads: Record<Key, number>; convGmacs: number } | undefined {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
  if (probe.status !== 0) return undefined;
  const run = (threads: number) =>
    JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", TORCH, String(SECONDS), String(threads)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .at(-1)!,
    ) as TorchRun;
  // compare against the faster of 1 thread and all cores (the honest baseline)
  const runs = [...new Set([1, CORES])].map(run);
  for (const r of runs)
    console.log(
      `torch ${r.version} ${r.threads} thread(s): ${cases.map((c) => `${c.key} ${r[c.key].toFixed(0)}`).join(", ")} samples/s; conv ${r.conv_gmacs.toFixed(1)} GMAC/s`,
    );
  const best = {} as Record<Key, number>;
  const threads = {} as Record<Key, number>;
  for (const c of cases) {
    const top = runs.reduce((a, b) => (b[c.key] > a[c.key] ? b : a));
    best[c.key] = top[c.key];
    threads[c.key] = top.threads;
  }
  return { best, threads, convGmacs: runs[0]!.conv_gmacs };
}

const { name: backend } = await selectBackend();
console.log(`backend: ${backend} (tfjs ${tf.version.tfjs}), ${SECONDS}s per case, ${CORES} cores`);
const ours = {} as Record<Key, number>;
const ourThreads = {} as Record<Key, number>;
for (const c of cases) {
  for (const threads of [...new Set([1, CORES])]) {
    const sps = await heron(c, backend, threads);
    console.log(`heron  ${c.model.padEnd(10)} batch ${String(c.batch).padStart(3)} adam, ${threads} thread(s): ${sps.toFixed(0)} samples/s`);
    if (!(sps <= (ours[c.key] ?? 0))) {
      ours[c.key] = sps;
      ourThreads[c.key] = threads;
    }
  }
}
const convGmacs = backend === "wasm" || backend === "cpu" ? convPeakGmacs() : undefined;
if (convGmacs) console.log(`heron  conv 3x3 128→64 32x32 batch 128 forward, 1 thread: ${convGmacs.toFixed(1)} GMAC/s`);
const torch = torchBaseline();
if (!torch) console.log("pytorch: skipped (/usr/bin/python3 -c 'import torch' failed; apt-get install python3-torch)");
const ratio = (k: Key) => (torch ? Number((ours[k] / torch.best[k]).toFixed(2)) : "skipped");
console.log(
  JSON.stringify({
    bench: "train",
    backend,
    threads: ourThreads,
    mlp_samples_per_s: Math.round(ours.mlp),
    mlp_vs_torch: ratio("mlp"),
    cnn_samples_per_s: Math.round(ours.cnn),
    cnn_vs_torch: ratio("cnn"),
    deepcnn_samples_per_s: Math.round(ours.deepcnn),
    deepcnn_vs_torch: ratio("deepcnn"),
    ...(torch
      ? {
          torch_threads: torch.threads,
          torch_mlp_samples_per_s: Math.round(torch.best.mlp),
          torch_cnn_samples_per_s: Math.round(torch.best.cnn),
          torch_deepcnn_samples_per_s: Math.round(torch.best.deepcnn),
        }
      : {}),
    // one thread each: the bound on any conv model's ratio on this host (bench/README.md, "ceiling")
    ...(convGmacs ? { conv_gmacs: Number(convGmacs.toFixed(1)) } : {}),
    ...(torch && convGmacs ? { torch_conv_gmacs: Number(torch.convGmacs.toFixed(1)), conv_vs_torch: Number((convGmacs / torch.convGmacs).toFixed(2)) } : {}),
    loadavg: loadavg().map((v) => Number(v.toFixed(2))),
  }),
);
