/**
 * `kind: "train"` jobs: a hand-written training loop (no Keras fit) over the seed models.
 * Per optimizer step: gradAccumulation micro-batches → summed gradients → global-norm
 * clipping → one SGD/Adam update with the scheduled lr. Everything random is derived from
 * (seed, epoch, step) so a run resumed from a checkpoint replays exactly.
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult } from "../jobs/job-context";
import { type TrainSpec, type TrainSpecInput, TrainSpecSchema } from "../schemas/train-spec";
import { selectBackend } from "./backend";
import { loadLatestCheckpoint, saveCheckpoint } from "./checkpoint";
import { Batcher, type Dataset, loadDataset, type Split } from "./datasets";
import { chooseBatchSize, formatBytes, memoryBudget, planMemory } from "./memory-planner";
import { buildModel, type SeedModel } from "./models/seed-models";
import { Optimizer } from "./optim";
import { hash32, Rng } from "./rng";
import { learningRate } from "./schedule";

export type EvalResult = { loss: number; accuracy: number; count: number };

/** mean cross-entropy and accuracy (0..1) over a split, in batches */
export function evaluate(model: SeedModel, ds: Dataset, split: Split, batchSize = 1000): EvalResult {
  const bs = Math.min(batchSize, Math.max(1, split.count));
  const batcher = new Batcher(ds, bs);
  const [h, w, c] = ds.inputShape;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < split.count; start += bs) {
    const n = Math.min(bs, split.count - start);
    const { x, y } = batcher.fill(split, null, start, n);
    const [l, k] = tf.tidy(() => {
      const logits = model.forward(tf.tensor4d(x, [n, h, w, c]), { training: false }).logits;
      const labels = tf.tensor1d(y, "int32");
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, ds.numClasses), logits, undefined, undefined, tf.Reduction.SUM);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "int32"));
      return [loss.dataSync()[0]!, hits.dataSync()[0]!];
    });
    lossSum += l;
    correct += k;
  }
  return { loss: lossSum / Math.max(1, split.count), accuracy: correct / Math.max(1, split.count), count: split.count };
}

function fingerprint(s: TrainSpec, batchSize: number): string {
  return JSON.stringify([s.model, s.dataset, batchSize, s.gradAccumulation, s.optimizer, s.maxTrainSamples ?? null, s.seed ?? 0]);
}

export async function runTrainJob(specIn: TrainSpec | TrainSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = TrainSpecSchema.parse(specIn);
  const backend = await selectBackend();
  const seed = spec.seed ?? 0;
  const ds = loadDataset(spec.dataset, {
    cifarPath: spec.cifarPath,
    maxTrainSamples: spec.maxTrainSamples,
    maxTestSamples: spec.maxTestSamples,
    warn: (m) => ctx.warn(m),
  });
  const planOpts = { inputShape: ds.inputShape, numClasses: ds.numClasses };
  let batchSize: number;
  if (spec.batchSize === "auto") {
    const budget = memoryBudget();
    batchSize = Math.min(chooseBatchSize(spec, budget.bytes, planOpts).batchSize, ds.train.count);
    ctx.info(`batchSize auto → ${batchSize} (80% of ${(budget.bytes / 2 ** 30).toFixed(1)} GiB from ${budget.source})`);
  } else batchSize = spec.batchSize;
  const plan = planMemory(spec, { ...planOpts, batchSize });
  ctx.info(plan.table);

  const model = buildModel(spec.model, ds.inputShape, ds.numClasses, { seed });
  model.fastConv = backend.name === "wasm" || backend.name === "cpu";
  const opt = new Optimizer(
    spec.optimizer === "adam"
      ? { name: "adam", beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay }
      : { name: "sgd", momentum: spec.momentum, weightDecay: spec.weightDecay },
    model.params,
  ).init();
  ctx.info(`${spec.model}: ${model.paramCount.toLocaleString("en-US")} params on ${backend.name}; ${ds.source}`);

  const N = ds.train.count;
  const accum = spec.gradAccumulation;
  const microPerEpoch = Math.ceil(N / batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accum);
  const totalSteps = stepsPerEpoch * spec.epochs;
  const fp = fingerprint(spec, batchSize);

  let step = 0;
  let startEpoch = 0;
  let startStepInEpoch = 0;
  const ckpt = loadLatestCheckpoint(ctx.checkpointDir, (m) => ctx.warn(m));
  if (ckpt) {
    if (ckpt.model !== spec.model) throw new Error(`checkpoint in ${ctx.checkpointDir} is for model ${ckpt.model}, not ${spec.model}`);
    if (ckpt.extra?.fingerprint !== fp) ctx.warn("resuming from a checkpoint written with a different spec; data order may differ");
    model.setWeights(ckpt.weights);
    opt.setState(ckpt.optimizer);
    step = ckpt.step;
    startEpoch = ckpt.epoch;
    startStepInEpoch = ckpt.stepInEpoch;
    ctx.info(`resumed from checkpoint at step ${step} (epoch ${startEpoch + 1}, step ${startStepInEpoch} of ${stepsPerEpoch})`);
  }
  const save = (epoch: number, stepInEpoch: number, extra: Record<string, unknown> = {}) =>
    saveCheckpoint(ctx.checkpointDir, {
      step,
      epoch,
      stepInEpoch,
      seed,
      model: spec.model,
      weights: model.getWeights(),
      optimizer: opt.getState(),
      extra: { fingerprint: fp, ...extra },
    });

  const [h, w, c] = ds.inputShape;
  const batcher = new Batcher(ds, batchSize);
  const summary: Record<string, number | string> = {
    backend: backend.name,
    param_count: model.paramCount,
    batch_size: batchSize,
    planned_bytes: plan.totalBytes,
  };
  let trainSeconds = 0;
  let trainSamples = 0;
  let lastProgress = 0;
  let lastYield = performance.now();
  let last: { loss: number; accuracy: number } | undefined;
  let aborted = false;
  let measuredPeak: number | undefined;

  type StepResult = { loss: number; gradNorm: number; lr: number };
  /** one optimizer step: accumulate micro-batch gradients, clip, update; throws on NaN */
  const trainStep = (epoch: number, s: number, order: Uint32Array): StepResult => {
    const firstMicro = s * accum;
    const lastMicro = Math.min(firstMicro + accum, microPerEpoch);
    const groupSamples = Math.min(lastMicro * batchSize, N) - firstMicro * batchSize;
    let grads: Map<string, tf.Tensor> | undefined;
    let lossT: tf.Tensor = tf.scalar(0);
    for (let m = firstMicro; m < lastMicro; m++) {
      const start = m * batchSize;
      const n = Math.min(batchSize, N - start);
      const { x, y } = batcher.fill(ds.train, order, start, n);
      const dropoutSeed = hash32(seed, "dropout", epoch, m);
      const weight = n / groupSamples;
      const r = tf.tidy(() => {
        const xt = tf.tensor4d(x, [n, h, w, c]);
        const yt = tf.oneHot(tf.tensor1d(y, "int32"), ds.numClasses);
        return tf.variableGrads(() => {
          const logits = model.forward(xt, { training: true, seed: dropoutSeed }).logits;
          return tf.mul(tf.losses.softmaxCrossEntropy(yt, logits), weight) as tf.Scalar;
        }, model.trainableWeights);
      });
      const byName = new Map<string, tf.Tensor>();
      for (const [name, v] of model.params) byName.set(name, r.grads[v.name]!);
      if (!grads) grads = byName;
      else
        for (const [name, g] of byName) {
          const prev = grads.get(name)!;
          grads.set(name, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        }
      const nl = tf.add(lossT, r.value);
      lossT.dispose();
      r.value.dispose();
      lossT = nl;
      trainSamples += n;
    }
    const g = grads!;
    const normT = tf.tidy(() => tf.sqrt(tf.addN([...g.values()].map((t) => tf.sum(tf.square(t))))));
    if (spec.clipGradNorm !== undefined) {
      // torch.nn.utils.clip_grad_norm_: scale by max/(norm+1e-6) when norm exceeds max
      const scale = tf.tidy(() => tf.minimum(1, tf.div(spec.clipGradNorm!, tf.add(normT, 1e-6))));
      for (const [name, t] of g) {
        g.set(name, tf.mul(t, scale));
        t.dispose();
      }
      scale.dispose();
    }
    const lr = learningRate(step, { lr: spec.lr, schedule: spec.schedule, warmupSteps: spec.warmupSteps, totalSteps });
    const loss = lossT.dataSync()[0]!;
    const gradNorm = normT.dataSync()[0]!;
    lossT.dispose();
    normT.dispose();
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      for (const t of g.values()) t.dispose();
      throw new Error(
        `training diverged: ${Number.isFinite(loss) ? "gradient norm" : "loss"} is ${Number.isFinite(loss) ? gradNorm : loss} at step ${step + 1} ` +
          `(epoch ${epoch + 1}, lr ${lr.toPrecision(3)}); lower lr or set clipGradNorm`,
      );
    }
    opt.apply(g, lr);
    return { loss, gradNorm, lr };
  };

  try {
    for (let epoch = startEpoch; epoch < spec.epochs && !aborted; epoch++) {
      const order = Rng.derive(seed, "shuffle", epoch).permutation(N);
      for (let s = epoch === startEpoch ? startStepInEpoch : 0; s < stepsPerEpoch; s++) {
        if (ctx.signal.aborted) {
          aborted = true;
          save(epoch, s);
          ctx.info(`stopped at step ${step} (checkpoint written); a new attempt resumes from here`);
          break;
        }
        const t0 = performance.now();
        let res: StepResult | undefined;
        if (measuredPeak === undefined) {
          // first step of this attempt: measure the real peak beside the plan (run page)
          const prof = await tf.profile(() => {
            res = trainStep(epoch, s, order);
          });
          measuredPeak = prof.peakBytes;
          summary.measured_peak_bytes = measuredPeak;
          ctx.info(`memory: planned ${formatBytes(plan.totalBytes)}, measured peak ${formatBytes(measuredPeak)} (tf.memory, first step)`);
        } else res = trainStep(epoch, s, order);
        const { loss, gradNorm, lr } = res!;
        step++;
        trainSeconds += (performance.now() - t0) / 1000;
        const epochFloat = epoch + (s + 1) / stepsPerEpoch;
        if (step % spec.logEvery === 0) ctx.log({ "train/loss": loss, "train/grad_norm": gradNorm, "train/lr": lr, "train/epoch": epochFloat }, step);
        const now = performance.now();
        if (now - lastProgress > 1000 || step === totalSteps) {
          lastProgress = now;
          const sps = trainSamples / Math.max(1e-9, trainSeconds);
          ctx.progress({
            epoch: epoch + 1,
            epochs: spec.epochs,
            step,
            totalSteps,
            samplesPerSec: sps,
            etaSec: ((totalSteps - step) * batchSize * accum) / Math.max(1e-9, sps),
          });
        }
        if (spec.checkpointEvery && step % spec.checkpointEvery === 0 && s + 1 < stepsPerEpoch) save(epoch, s + 1);
        // let the event loop run every ~100 ms: without it the tracking SDK sends nothing until the
        // job ends (no live charts), and SIGTERM (cancel/drain) and the runner's IPC go unheard
        if (now - lastYield > 100) {
          lastYield = now;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      if (aborted) break;
      const ev = evaluate(model, ds, ds.test);
      last = ev;
      ctx.log({ "test/loss": ev.loss, "test/accuracy": ev.accuracy }, step);
      ctx.info(`epoch ${epoch + 1}/${spec.epochs}: test loss ${ev.loss.toFixed(4)}, accuracy ${(ev.accuracy * 100).toFixed(2)}%`);
      save(epoch + 1, 0, { testAccuracy: ev.accuracy });
    }
    if (!last && !aborted) {
      // resumed after the final epoch: report the finished model
      last = evaluate(model, ds, ds.test);
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  const sps = trainSamples / Math.max(1e-9, trainSeconds);
  if (last) {
    summary.test_accuracy = last.accuracy;
    summary.test_loss = last.loss;
  }
  summary.samples_per_s = Math.round(sps);
  summary.steps = step;
  if (aborted) summary.stopped = "aborted";
  ctx.setSummary(summary);
  return { summary };
}
