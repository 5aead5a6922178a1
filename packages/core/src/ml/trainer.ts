/**
 * `kind: "train"` jobs: a hand-written training loop (no Keras fit) over the reference models.
 * Per optimizer step: gradAccumulation micro-batches → summed gradients → global-norm
 * clipping → one SGD/Adam update with the scheduled lr. Everything random is derived from
 * (seed, epoch, step) so a run resumed from a checkpoint replays exactly.
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult } from "../jobs/job-context";
import { type TrainSpec, type TrainSpecInput, TrainSpecSchema } from "../schemas/train-spec";
import { selectBackend } from "./backend";
import { Batcher, type Dataset, loadSpecDataset } from "./datasets";
import { applyFreeze } from "./freeze";
import { chooseBatchSize, formatBytes, memoryBudget, memorySummary, planMemory } from "./memory-planner";
import { buildModel, describeModel, type ReferenceModel } from "./models/reference-models";
import { Optimizer } from "./optim";
import { GradPool, type PoolGrads } from "./parallel/grad-pool";
import { computeShard } from "./parallel/replica";
import { forwardMacs, resolveThreads, resumedThreadsNote } from "./parallel/threads";
import { hash32 } from "./rng";
import { learningRate } from "./schedule";
import { loadStageInit, stageWeights } from "./stage-init";
import { evaluate, runTrainLoop, type StepOutcome } from "./train-loop";

export { type EvalResult, evaluate } from "./train-loop";

function fingerprint(s: TrainSpec, batchSize: number): string {
  return JSON.stringify([s.model, s.dataset, batchSize, s.gradAccumulation, s.optimizer, s.maxTrainSamples ?? null, s.seed ?? 0]);
}

type TrainStepDeps = {
  spec: TrainSpec;
  ds: Dataset;
  model: ReferenceModel;
  /** the parameters that train (frozen ones excluded), by name */
  trainable: Map<string, tf.Variable>;
  opt: Optimizer;
  batcher: Batcher;
  seed: number;
  batchSize: number;
  microPerEpoch: number;
  totalSteps: number;
  /** data-parallel replicas; absent: this thread computes every micro-batch */
  pool?: GradPool;
};

/** one optimizer step: accumulate micro-batch gradients, clip, update; throws on NaN */
function createTrainStep(d: TrainStepDeps) {
  const { spec, ds, model, trainable, opt, batcher, seed, batchSize, microPerEpoch, totalSteps, pool } = d;
  const accum = spec.gradAccumulation;
  const N = ds.train.count;
  /** a micro-batch's gradients by parameter name and its loss (already × its weight) */
  const microGrads = (x: Float32Array, y: Int32Array, n: number, dropoutSeed: number, weight: number): PoolGrads | Promise<PoolGrads> => {
    if (pool) return pool.grads(x, y, n, dropoutSeed, weight);
    return computeShard({ kind: "classify" }, { model, params: model.params }, trainable, { x, y, offset: 0, total: n, seed: dropoutSeed, weight });
  };
  return async (epoch: number, s: number, order: Uint32Array, step: number): Promise<StepOutcome> => {
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
      const r = await microGrads(x, y, n, dropoutSeed, weight);
      const byName = r.grads;
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
    return { loss, gradNorm, lr, samples: groupSamples };
  };
}

export async function runTrainJob(specIn: TrainSpec | TrainSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = TrainSpecSchema.parse(specIn);
  const backend = await selectBackend();
  const seed = spec.seed ?? 0;
  const ds = loadSpecDataset(spec, (m) => ctx.warn(m));
  const planOpts = { inputShape: ds.inputShape, numClasses: ds.numClasses };
  let batchSize: number;
  if (spec.batchSize === "auto") {
    const budget = memoryBudget();
    batchSize = Math.min(chooseBatchSize(spec, budget.bytes, planOpts).batchSize, ds.train.count);
    ctx.info(`batchSize auto → ${batchSize} (80% of ${(budget.bytes / 2 ** 30).toFixed(1)} GiB from ${budget.source})`);
  } else batchSize = spec.batchSize;
  const macsPerSample = forwardMacs(describeModel(spec.model, ds.inputShape, ds.numClasses).layers);
  const threads = resolveThreads(spec.threads, { backend: backend.name, batchSize, macsPerSample });
  ctx.info(threads.reason);
  const plan = planMemory(spec, { ...planOpts, batchSize, threads: threads.threads });
  ctx.info(plan.table);

  const model = buildModel(spec.model, ds.inputShape, ds.numClasses, { seed });
  model.fastConv = backend.name === "wasm" || backend.name === "cpu";
  const init = loadStageInit(model.params, spec.init, ctx);
  const fz = applyFreeze(model.params, spec, ctx);
  const opt = new Optimizer(
    spec.optimizer === "adam"
      ? { name: "adam", beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay }
      : { name: "sgd", momentum: spec.momentum, weightDecay: spec.weightDecay },
    fz.trainable,
  ).init();
  ctx.info(`${spec.model}: ${model.paramCount.toLocaleString("en-US")} params on ${backend.name}; ${ds.source}`);

  const N = ds.train.count;
  const accum = spec.gradAccumulation;
  const microPerEpoch = Math.ceil(N / batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accum);
  const totalSteps = stepsPerEpoch * spec.epochs;
  const fp = fingerprint(spec, batchSize);

  const batcher = new Batcher(ds, batchSize);
  const summary: Record<string, number | string> = {
    backend: backend.name,
    param_count: model.paramCount,
    batch_size: batchSize,
    threads: threads.threads,
    ...memorySummary(plan),
  };
  let measuredPeak: number | undefined;

  let result;
  let pool: GradPool | undefined;
  try {
    if (threads.threads > 1)
      pool = await GradPool.start({ threads: threads.threads, model, trainable: fz.trainable, maxBatch: batchSize, backend: backend.name });
    const trainStep = createTrainStep({ spec, ds, model, trainable: fz.trainable, opt, batcher, seed, batchSize, microPerEpoch, totalSteps, pool });
    result = await runTrainLoop({
      ctx,
      epochs: spec.epochs,
      stepsPerEpoch,
      samples: N,
      seed,
      cadence: { logEvery: spec.logEvery, progress: "throttled", samplesPerStep: batchSize * accum },
      checkpoints: {
        dir: ctx.checkpointDir,
        every: spec.checkpointEvery,
        snapshot: () => ({
          seed,
          model: spec.model,
          ...stageWeights(model.params, fz.frozen, init, spec.checkpoint),
          optimizer: opt.getState(),
          extra: { fingerprint: fp, threads: threads.threads },
        }),
        restore: (ck) => {
          if (ck.model !== spec.model) throw new Error(`checkpoint in ${ctx.checkpointDir} is for model ${ck.model}, not ${spec.model}`);
          if (ck.extra?.fingerprint !== fp) ctx.warn("resuming from a checkpoint written with a different spec; data order may differ");
          const note = resumedThreadsNote(ck.extra, threads.threads);
          if (note) ctx.info(note);
          model.setWeights(ck.weights);
          opt.setState(ck.optimizer);
          return true;
        },
      },
      runStep: async (epoch, s, order, step) => {
        if (measuredPeak !== undefined) return trainStep(epoch, s, order, step);
        // first step of this attempt: measure the real peak beside the plan (run page; this thread's backend)
        let res: StepOutcome | undefined;
        const prof = await tf.profile(async () => {
          res = await trainStep(epoch, s, order, step);
        });
        measuredPeak = prof.peakBytes;
        summary.measured_peak_bytes = measuredPeak;
        ctx.info(`memory: planned ${formatBytes(plan.totalBytes)}, measured peak ${formatBytes(measuredPeak)} (tf.memory, first step)`);
        return res!;
      },
      evaluate: () => evaluate(model, ds, ds.test),
      describeEpoch: (epoch, ev) => `epoch ${epoch + 1}/${spec.epochs}: test loss ${ev.loss.toFixed(4)}, accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
    });
  } finally {
    await pool?.close();
    opt.dispose();
    model.dispose();
  }
  const sps = result.samples / Math.max(1e-9, result.seconds);
  if (result.last) {
    summary.test_accuracy = result.last.accuracy;
    summary.test_loss = result.last.loss;
  }
  summary.samples_per_s = Math.round(sps);
  summary.steps = result.step;
  if (result.aborted) summary.stopped = "aborted";
  ctx.setSummary(summary);
  return { summary };
}
