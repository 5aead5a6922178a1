/**
 * `finetune` on an image reference model: e.g. pre-train mlp-mnist or light-cnn on MNIST digits
 * 0–4 (stage 1, or a finished run's checkpoint), then fine-tune on digits 5–9 or on
 * Fashion-MNIST with LoRA on the dense layers / a new head / everything. Accuracy on the
 * fine-tuning test split is logged before training (test/accuracy_before) and per epoch.
 *
 * LoRA here is applied as a weight delta: the forward pass swaps W for W + (α/r)·A·B inside
 * the gradient tape (the reference models' own forward stays untouched), which is exact for
 * dropout 0 — the schema refuses lora.dropout > 0 for image models.
 */
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult } from "../../jobs/job-context";
import { denseLayersOf, type FinetuneSpec, ImagePretrainSchema, selectLoraTargets } from "../../schemas/finetune-spec";
import { loadLatestCheckpoint, saveCheckpoint } from "../checkpoint";
import { Batcher, type Dataset, loadDataset, type Split } from "../datasets";
import { loadRunCheckpoint } from "../distill/teacher";
import { createLoraAdapters, disposeAdapters, effectiveWeight, type LoraAdapter, mergeLoraWeights } from "../lora/lora";
import { crossEntropy } from "../losses";
import type { ForwardOptions } from "../models/layers";
import { buildModel, type ForwardResult, type ReferenceModel } from "../models/reference-models";
import { Optimizer } from "../optim";
import { hash32 } from "../rng";
import { evaluate, runTrainLoop } from "../train-loop";
import { optimizerStep } from "./step";

const adam = { name: "adam" as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

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

/** the model's forward with each adapted dense weight replaced by W + scale·A·B */
export function forwardWithAdapters(model: ReferenceModel, x: tf.Tensor4D, o: ForwardOptions, adapters: Map<string, LoraAdapter> | undefined): ForwardResult {
  if (!adapters?.size) return model.forward(x, o);
  const saved = new Map<string, tf.Variable>();
  for (const ad of adapters.values()) {
    const key = `${ad.layer}.weight`;
    const w = model.params.get(key)!;
    saved.set(key, w);
    model.params.set(key, effectiveWeight(w as unknown as tf.Tensor2D, ad) as unknown as tf.Variable);
  }
  try {
    return model.forward(x, o);
  } finally {
    for (const [k, w] of saved) model.params.set(k, w);
  }
}

/** plain cross-entropy training of `params` on `split` through the shared loop (no checkpoints: a stop throws) */
async function trainCE(
  model: ReferenceModel,
  params: Map<string, tf.Variable>,
  ds: Dataset,
  split: Split,
  o: {
    epochs: number;
    batchSize: number;
    lr: number;
    seed: number;
    stream: string;
    ctx: JobContext;
    adapters?: Map<string, LoraAdapter>;
    log?: (step: number, epoch: number, r: { loss: number; gradNorm: number }) => void;
    after?: (epoch: number, step: number) => void;
  },
): Promise<number> {
  const opt = new Optimizer(adam, params);
  const N = split.count;
  const bs = Math.min(o.batchSize, N);
  const batcher = new Batcher(ds, bs);
  const [h, w, c] = ds.inputShape;
  try {
    const r = await runTrainLoop({
      ctx: o.ctx,
      epochs: o.epochs,
      stepsPerEpoch: Math.ceil(N / bs),
      samples: N,
      seed: o.seed,
      shuffleStream: o.stream,
      runStep: (epoch, s, order) => {
        const start = s * bs;
        const n = Math.min(bs, N - start);
        const { x, y } = batcher.fill(split, order, start, n);
        const xt = tf.tensor4d(x, [n, h, w, c]);
        const yt = tf.tensor1d(y, "int32");
        const seed = hash32(o.seed, o.stream, epoch, start);
        const r = optimizerStep(
          params,
          [{ weight: 1, loss: () => ({ loss: crossEntropy(forwardWithAdapters(model, xt, { training: true, seed }, o.adapters).logits, yt) }) }],
          opt,
          o.lr,
        );
        tf.dispose([xt, yt]);
        return { ...r, lr: o.lr, samples: n };
      },
      afterStep: (r, info) => o.log?.(info.step, info.epoch + Math.min((info.stepInEpoch + 1) * bs, N) / N, r),
      endEpoch: o.after,
    });
    return r.step;
  } finally {
    opt.dispose();
  }
}

function evalWith(model: ReferenceModel, ds: Dataset, split: Split, adapters?: Map<string, LoraAdapter>) {
  if (!adapters?.size) return evaluate(model, ds, split);
  const orig = model.forward.bind(model);
  model.forward = (x, o) => forwardWithAdapters({ ...model, forward: orig }, x, o ?? {}, adapters);
  try {
    return evaluate(model, ds, split);
  } finally {
    model.forward = orig;
  }
}

const limit = (s: Split, max?: number): Split =>
  max && max < s.count ? { images: s.images.subarray(0, (s.images.length / s.count) * max), labels: s.labels.subarray(0, max), count: max } : s;

/** stage 1: pre-trained here (once per job, checkpointed under <dir>/base) or a finished run's checkpoint */
async function loadImageBase(spec: FinetuneSpec, ctx: JobContext, ds: Dataset, seed: number, fastConv: boolean): Promise<ReferenceModel> {
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
      await trainCE(model, model.params, pds, split, {
        epochs: p.epochs,
        batchSize: p.batchSize,
        lr: p.lr,
        seed,
        stream: "pretrain",
        ctx,
        log: (step, _e, r) => step % spec.logEvery === 0 && ctx.log({ "pretrain/loss": r.loss }, step),
      });
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

export async function runImageFinetune(spec: FinetuneSpec, ctx: JobContext, backendName: string): Promise<JobResult> {
  const seed = spec.seed ?? 0;
  const fastConv = backendName === "wasm" || backendName === "cpu";
  const ds = loadDataset(spec.dataset!, { cifarPath: spec.cifarPath, warn: ctx.warn });
  const train = limit(filterClasses(ds.train, spec.classes), spec.maxTrainSamples);
  const test = limit(filterClasses(ds.test, spec.classes), spec.maxTestSamples);
  if (!train.count) throw new Error(`classes: dataset ${ds.name} has no training sample of classes ${spec.classes?.join(", ")}`);

  const model = await loadImageBase(spec, ctx, ds, seed, fastConv);
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
  const trainableCount = [...trainable.values()].reduce((a, v) => a + v.size, 0);
  const share = trainableCount / (model.paramCount + (adapters ? trainableCount : 0));
  ctx.info(`trainable params: ${trainableCount.toLocaleString("en-US")} (${(share * 100).toFixed(2)}% of the model)`);

  const before = evalWith(model, ds, test, adapters);
  ctx.log(
    { "test/accuracy_before": before.accuracy, "test/accuracy": before.accuracy, "train/trainable_params": trainableCount, "train/trainable_share": share },
    0,
  );
  ctx.info(`before fine-tuning: test accuracy ${(before.accuracy * 100).toFixed(2)}% on ${test.count} samples`);
  let after = before;
  try {
    await trainCE(model, trainable, ds, train, {
      epochs: spec.epochs,
      batchSize: spec.batchSize,
      lr: spec.lr,
      seed,
      stream: "finetune",
      ctx,
      adapters,
      log: (step, epoch, r) =>
        step % spec.logEvery === 0 && ctx.log({ "train/loss": r.loss, "train/grad_norm": r.gradNorm, "train/lr": spec.lr, "train/epoch": epoch }, step),
      after: (epoch, step) => {
        after = evalWith(model, ds, test, adapters);
        ctx.log({ "test/accuracy": after.accuracy, "test/loss": after.loss }, step);
        ctx.info(`epoch ${epoch + 1}/${spec.epochs}: test accuracy ${(after.accuracy * 100).toFixed(2)}%`);
      },
    });
    const weights = adapters ? mergeLoraWeights(model.getWeights(), adapters) : model.getWeights();
    saveCheckpoint(ctx.checkpointDir, {
      step: 1,
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
      accuracy_before: before.accuracy,
      test_accuracy: after.accuracy,
    };
    ctx.setSummary(summary);
    return { summary };
  } finally {
    if (adapters) disposeAdapters(adapters);
    model.dispose();
  }
}
