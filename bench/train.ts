// Training throughput (samples/s) of the reference models on the backend a runner would pick,
// against PyTorch on the CPU with the same model, batch and optimizer in the same run.
// The step is the trainer's: batch normalised from uint8 storage, forward, backward,
// global grad norm (read back), Adam update. Run: npx tsx bench/train.ts
import { execFileSync, spawnSync } from "node:child_process";
import { cpus } from "node:os";

import { Batcher, buildModel, loadDataset, Optimizer, selectBackend } from "@heron/core/ml";
import * as tf from "@tensorflow/tfjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);

type Case = { key: "mlp" | "cnn"; model: "mlp-mnist" | "light-cnn"; shape: [number, number, number]; batch: number };
const cases: Case[] = [
  { key: "mlp", model: "mlp-mnist", shape: [28, 28, 1], batch: 64 },
  { key: "cnn", model: "light-cnn", shape: [32, 32, 3], batch: 128 },
];

async function heron(c: Case, backend: string): Promise<number> {
  const ds = loadDataset("synthetic", { synthetic: { trainSize: c.batch * 16, testSize: 1, inputShape: c.shape } });
  const model = buildModel(c.model, c.shape, 10, { seed: 0 });
  model.fastConv = backend === "wasm" || backend === "cpu";
  const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, model.params).init();
  const batcher = new Batcher(ds, c.batch);
  let i = 0;
  const step = () => {
    const start = (i++ % 16) * c.batch;
    const { x, y } = batcher.fill(ds.train, null, start, c.batch);
    const r = tf.tidy(() => {
      const xt = tf.tensor4d(x, [c.batch, ...c.shape]);
      const yt = tf.oneHot(tf.tensor1d(y, "int32"), 10);
      return tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(yt, model.forward(xt, { training: true, seed: i }).logits) as tf.Scalar,
        model.trainableWeights,
      );
    });
    const grads = new Map<string, tf.Tensor>();
    for (const [n, v] of model.params) grads.set(n, r.grads[v.name]!);
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
    norm.dataSync();
    r.value.dataSync();
    norm.dispose();
    r.value.dispose();
    opt.apply(grads, 1e-3);
  };
  for (let k = 0; k < 3; k++) step(); // warm-up (JIT, XNNPACK operator caches)
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    step();
    n++;
  }
  const sps = (n * c.batch) / ((performance.now() - t0) / 1000);
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
out = {"threads": torch.get_num_threads(), "version": torch.__version__}
for key, make, shape, bs in [("mlp", mlp, (1,28,28), 64), ("cnn", light, (3,32,32), 128)]:
    m = make(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    xs = torch.randn(16, bs, *shape); ys = torch.randint(0, 10, (16, bs))
    def step(i):
        opt.zero_grad(); loss = nn.functional.cross_entropy(m(xs[i % 16]), ys[i % 16]); loss.backward()
        gn = torch.sqrt(sum((p.grad ** 2).sum() for p in m.parameters())).item(); opt.step(); return loss.item()
    for i in range(3): step(i)
    n = 0; t0 = time.perf_counter()
    while time.perf_counter() - t0 < secs: step(n); n += 1
    out[key] = n * bs / (time.perf_counter() - t0)
print(json.dumps(out))
`;

function torchBaseline(): Record<string, number> | undefined {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" });
  if (probe.status !== 0) return undefined;
  const run = (threads: number) =>
    JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", TORCH, String(SECONDS), String(threads)], { encoding: "utf8" })
        .trim()
        .split("\n")
        .at(-1)!,
    ) as Record<string, number>;
  // compare against the faster of 1 thread and all cores (the honest baseline)
  const runs = [run(1), run(cpus().length)];
  for (const r of runs) console.log(`torch ${r.version} ${r.threads} thread(s): mlp ${r.mlp!.toFixed(0)}, cnn ${r.cnn!.toFixed(0)} samples/s`);
  return { mlp: Math.max(...runs.map((r) => r.mlp!)), cnn: Math.max(...runs.map((r) => r.cnn!)) };
}

const { name: backend } = await selectBackend();
console.log(`backend: ${backend} (tfjs ${tf.version.tfjs}), ${SECONDS}s per case`);
const ours: Record<string, number> = {};
for (const c of cases) {
  ours[c.key] = await heron(c, backend);
  console.log(`heron  ${c.model.padEnd(10)} batch ${String(c.batch).padStart(3)} adam: ${ours[c.key]!.toFixed(0)} samples/s`);
}
const torch = torchBaseline();
if (!torch) console.log("pytorch: skipped (/usr/bin/python3 -c 'import torch' failed; apt-get install python3-torch)");
const ratio = (k: string) => (torch ? Number((ours[k]! / torch[k]!).toFixed(2)) : "skipped");
console.log(
  JSON.stringify({
    bench: "train",
    backend,
    mlp_samples_per_s: Math.round(ours.mlp!),
    mlp_vs_torch: ratio("mlp"),
    cnn_samples_per_s: Math.round(ours.cnn!),
    cnn_vs_torch: ratio("cnn"),
    ...(torch ? { torch_mlp_samples_per_s: Math.round(torch.mlp!), torch_cnn_samples_per_s: Math.round(torch.cnn!) } : {}),
  }),
);
