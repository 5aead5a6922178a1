/**
 * `finetune` on an image reference model: e.g. pre-train mlp-mnist or light-cnn on MNIST digits
 * 0–4 (stage 1, or a finished run's checkpoint), then fine-tune on digits 5–9 or on
 * Fashion-MNIST with LoRA on the dense layers (adapted-forward.ts) / a new head / everything.
 * Accuracy on the fine-tuning test split is logged before training (test/accuracy_before) and
 * per epoch. The fine-tuning stage steps like the text one (schedule.ts: warmup + linear
 * decay, clip 1.0, loss averaged over the log interval), accumulates gradients over
 * `gradAccumulation` micro-batches, checkpoints every `saveEvery` steps and resumes mid-epoch.
 * Both stages run data-parallel on the CPU backends (`threads`, chosen like a train job's from
 * the model's forward work per sample); the base's pre-training logs its own choice.
 */
import { join } from "node:path";

import type * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult } from "../../jobs/job-context";
import { denseLayersOf, type FinetuneSpec, ImagePretrainSchema, selectLoraTargets } from "../../schemas/finetune-spec";
import { type CheckpointState, loadLatestCheckpoint, saveCheckpoint } from "../checkpoint";
import { type Dataset, loadDataset, type Split } from "../datasets";
import { loadRunCheckpoint } from "../distill/teacher";
import { adapterWeights, createLoraAdapters, disposeAdapters, type LoraAdapter, mergeLoraWeights, setAdapterWeights } from "../lora/lora";
import { buildModel, type ReferenceModel } from "../models/reference-models";
import { Optimizer } from "../optim";
import { forwardMacs, resolveThreads, resumedThreadsNote } from "../parallel/threads";
import { hash32 } from "../rng";
import { type EvalResult } from "../train-loop";
import { evalWith } from "./adapted-forward";
import { ceStepsPerEpoch, trainCE } from "./image-train";
import { describeSchedule, FINETUNE_ADAM as adam, finetuneSchedule } from "./schedule";
import { chooseTrainable } from "./trainable";

/** keeps only samples of `classes` (labels unchanged: the 10-way head stays) */
export function filterClasses(s: Split, classes: number[] | undefined): Split {
  if (!classes) return s;
  const keep = new Set(classes);
  const per = s.images.length / s.count;
  const idx: number[] = [];
  for (let i = 0; i < s.count; i++) if (keep.has(s.labels[i]!)) idx.push(i);
  const images = new Uint8Array(idx.length * per);
  const labels = new Uint8Array(idx.length);
  idx.forEach((src, j) => {
    images.set(s.images.subarray(src * per, (src + 1) * per), j * per);
    labels[j] = s.labels[src]!;
  });
  return { images, labels, count: idx.length };
}

const limit = (s: Split, max?: number): Split =>
  max && max < s.count ? { images: s.images.subarray(0, (s.images.length / s.count) * max), labels: s.labels.subarray(0, max), count: max } : s;

/** stage 1: pre-trained here (once per job, checkpointed under <dir>/base) or a finished run's checkpoint */
async function loadImageBase(spec: FinetuneSpec, ctx: JobContext, ds: Dataset, seed: number, backend: string): Promise<ReferenceModel> {
  const fastConv = backend === "wasm" || backend === "cpu";
  if ("pretrain" in spec.base) {
    const p = ImagePretrainSchema.parse(spec.base.pretrain);
    const pds = loadDataset(p.dataset, { warn: ctx.warn });
    const model = buildModel(p.model, pds.inputShape, pds.numClasses, { seed });
    model.fastConv = fastConv;
    const dir = join(ctx.checkpointDir, "base");
    const done = loadLatestCheckpoint(dir, ctx.warn);
    if (done?.extra?.done === true) model.setWeights(done.weights);
    else {
      const split = limit(filterClasses(pds.train, p.classes), p.maxTrainSamples);
      ctx.info(`base: pre-training ${p.model} on ${p.dataset}${p.classes ? ` classes ${p.classes.join(",")}` : ""} (${split.count} samples)`);
      const threads = resolveThreads(spec.threads, { backend, batchSize: Math.min(p.batchSize, split.count), macsPerSample: forwardMacs(model.layers) });
      ctx.info(`base: ${threads.reason}`);
      const opt = new Optimizer(adam, model.params);
      try {
        await trainCE(model, model.params, opt, pds, split, {
          epochs: p.epochs,
          batchSize: p.batchSize,
          lrAt: () => p.lr,
          seed,
          stream: "pretrain",
          ctx,
          parallel: { threads: threads.threads, backend },
          afterStep: (r, info) => info.step % spec.logEvery === 0 && ctx.log({ "pretrain/loss": r.loss }, info.step),
        });
      } finally {
        opt.dispose();
      }
      saveCheckpoint(dir, {
        step: 0,
        epoch: 0,
        stepInEpoch: 0,
        seed,
        model: p.model,
        weights: model.getWeights(),
        optimizer: { step: 0, slots: {} },
        extra: { done: true },
      });
    }
    return model;
  } else {
    const ck = loadRunCheckpoint(spec.base, ctx, "base");
    const model = buildModel(ck.model, ds.inputShape, ds.numClasses, { seed });
    model.setWeights(ck.weights);
    model.fastConv = fastConv;
    return model;
  }
}

/** what trains: LoRA adapters on the target layers, a fresh head, or everything */
function selectTrainable(model: ReferenceModel, ds: Dataset, spec: FinetuneSpec, seed: number) {
  const layers = denseLayersOf({ image: model.name, input: ds.inputShape, classes: ds.numClasses });
  let adapters: Map<string, LoraAdapter> | undefined;
  const trainable = new Map<string, tf.Variable>();
  for (const v of model.params.values()) v.trainable = spec.method === "full";
  if (spec.method === "lora") {
    adapters = createLoraAdapters(selectLoraTargets(layers, spec.lora!), spec.lora!, seed);
    for (const ad of adapters.values()) trainable.set(`${ad.layer}.lora_A`, ad.A).set(`${ad.layer}.lora_B`, ad.B);
  } else if (spec.method === "head") {
    const head = layers.at(-1)!.name;
    const fresh = buildModel(model.name, ds.inputShape, ds.numClasses, { seed: hash32(seed, "new-head") });
    for (const n of [`${head}.weight`, `${head}.bias`]) {
      model.params.get(n)!.assign(fresh.params.get(n)!);
      trainable.set(n, model.params.get(n)!);
    }
    fresh.dispose();
  } else for (const [n, v] of model.params) trainable.set(n, v);
  for (const v of trainable.values()) v.trainable = true;
  return { adapters, trainable };
}

// Long because it reads as the recipe, in order: data, base model, what trains, accuracy
// before, the shared loop with checkpoints and resume, merge and export.
export async function runImageFinetune(spec: FinetuneSpec, ctx: JobContext, backendName: string): Promise<JobResult> {
  const seed = spec.seed ?? 0;
  const ds = loadDataset(spec.dataset!, { cifarPath: spec.cifarPath, warn: ctx.warn });
  const train = limit(filterClasses(ds.train, spec.classes), spec.maxTrainSamples);
  const test = limit(filterClasses(ds.test, spec.classes), spec.maxTestSamples);
  if (!train.count) throw new Error(`classes: dataset ${ds.name} has no training sample of classes ${spec.classes?.join(", ")}`);

  const model = await loadImageBase(spec, ctx, ds, seed, backendName);
  const { adapters, trainable: byMethod } = selectTrainable(model, ds, spec, seed);
  const { trainable, plan, share } = chooseTrainable(model.params, adapters, byMethod, spec, ctx);
  const trainableCount = plan.trainableCount;
  const threads = resolveThreads(spec.threads, {
    backend: backendName,
    batchSize: Math.min(spec.batchSize, train.count),
    macsPerSample: forwardMacs(model.layers),
  });
  ctx.info(threads.reason);

  const opt = new Optimizer(adam, trainable);
  const sched = finetuneSchedule(spec, ceStepsPerEpoch(train.count, spec.batchSize, spec.gradAccumulation) * spec.epochs);
  ctx.info(describeSchedule(spec, sched));
  const evalNow = () => evalWith(model, ds, test, adapters);
  let before: EvalResult | undefined;
  try {
    const result = await trainCE(model, trainable, opt, ds, train, {
      ctx,
      epochs: spec.epochs,
      batchSize: spec.batchSize,
      gradAccumulation: spec.gradAccumulation,
      seed,
      stream: "finetune",
      parallel: { threads: threads.threads, backend: backendName },
      lrAt: sched.lrAt,
      clipGradNorm: sched.clipGradNorm,
      adapters,
      cadence: {
        logEvery: spec.logEvery,
        progress: "throttled",
        samplesPerStep: Math.min(spec.batchSize, train.count) * spec.gradAccumulation,
        meanLoss: true,
      },
      checkpoints: {
        dir: ctx.checkpointDir,
        every: spec.saveEvery,
        snapshot: () => ({
          seed,
          model: model.name,
          weights: { ...model.getWeights(), ...(adapters ? adapterWeights(adapters) : {}) },
          optimizer: opt.getState(),
          extra: { kind: "finetune-image", accuracyBefore: before?.accuracy, lossBefore: before?.loss, threads: threads.threads },
        }),
        restore: async (ck: CheckpointState) => {
          if (ck.extra?.kind !== "finetune-image" || ck.extra.merged === true || ck.model !== model.name) return false;
          model.setWeights(ck.weights);
          if (adapters) setAdapterWeights(adapters, ck.weights);
          opt.setState(ck.optimizer);
          const note = resumedThreadsNote(ck.extra, threads.threads);
          if (note) ctx.info(note);
          // the accuracy before fine-tuning is the base model's: a resumed attempt cannot measure it again
          if (typeof ck.extra.accuracyBefore === "number")
            before = { accuracy: ck.extra.accuracyBefore, loss: Number(ck.extra.lossBefore ?? NaN), count: test.count };
          await ctx.rewind?.(ck.step);
          return true;
        },
      },
      onStart: (from) => {
        if (from.step > 0 && before) return;
        before = evalNow();
        ctx.log(
          {
            "test/accuracy_before": before.accuracy,
            "test/accuracy": before.accuracy,
            "train/trainable_params": trainableCount,
            "train/trainable_share": share,
          },
          0,
        );
        ctx.info(`before fine-tuning: test accuracy ${(before.accuracy * 100).toFixed(2)}% on ${test.count} samples`);
      },
      evaluate: evalNow,
      describeEpoch: (epoch, ev) => `epoch ${epoch + 1}/${spec.epochs}: test accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
    });
    if (result.aborted) return { summary: { stopped: "aborted", steps: result.step } };
    const weights = adapters ? mergeLoraWeights(model.getWeights(), adapters) : model.getWeights();
    // at the last step, so it is the newest checkpoint (it replaces the loop's final one)
    saveCheckpoint(ctx.checkpointDir, {
      step: result.step,
      epoch: spec.epochs,
      stepInEpoch: 0,
      seed,
      model: model.name,
      weights,
      optimizer: { step: 0, slots: {} },
      extra: { kind: "finetune-image", merged: true },
    });
    const summary = {
      backend: backendName,
      method: spec.method,
      param_count: model.paramCount,
      trainable_params: trainableCount,
      trainable_share: share,
      threads: threads.threads,
      accuracy_before: before!.accuracy,
      test_accuracy: (result.last ?? before!).accuracy,
      steps: result.step,
    };
    ctx.setSummary(summary);
    return { summary };
  } finally {
    opt.dispose();
    if (adapters) disposeAdapters(adapters);
    model.dispose();
  }
}
