/**
 * Cross-entropy training of an image reference model's `params` (all of them, a head, or
 * LoRA adapters) through the shared loop: gradient accumulation over micro-batches, the
 * caller's lr per step and clip, and — when the caller passes checkpoints — saves every N
 * steps and exact mid-epoch resume (data order and dropout are functions of seed, epoch and
 * position, see ../train-loop.ts). With `parallel.threads` > 1 each micro-batch's gradients come from
 * data-parallel replicas (../parallel/grad-pool.ts) with the same loss, rows and dropout
 * masks, and this thread applies the one optimizer step as before.
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../../jobs/job-context";
import { Batcher, type Dataset, type Split } from "../datasets";
import type { LoraAdapter } from "../lora/lora";
import type { ReferenceModel } from "../models/reference-models";
import type { Optimizer } from "../optim";
import { GradPool } from "../parallel/grad-pool";
import { adapterShapes } from "../parallel/replica";
import { hash32 } from "../rng";
import {
  type EvalResult,
  type LogCadence,
  type LoopCheckpoints,
  type LoopPosition,
  runTrainLoop,
  type StepInfo,
  type StepOutcome,
  type TrainLoopResult,
} from "../train-loop";
import { finetuneImageLoss } from "./adapted-forward";
import { type MicroBatch, optimizerStep, poolOptimizerStep } from "./step";
import { adapterVariables } from "./trainable";

export type CeTrainOptions = {
  ctx: JobContext;
  epochs: number;
  batchSize: number;
  gradAccumulation?: number;
  seed: number;
  /** RNG stream of the shuffle and dropout ("pretrain", "finetune") */
  stream: string;
  lrAt: (step: number) => number;
  clipGradNorm?: number;
  adapters?: Map<string, LoraAdapter>;
  cadence?: LogCadence;
  checkpoints?: LoopCheckpoints;
  evaluate?: () => EvalResult;
  describeEpoch?: (epoch: number, ev: EvalResult) => string;
  onStart?: (from: LoopPosition) => void;
  afterStep?: (r: StepOutcome, info: StepInfo) => void;
  /** data-parallel replicas: resolveThreads' choice and the backend each replica selects (threads 1 or absent: this thread alone) */
  parallel?: { threads: number; backend: string };
};

/** optimizer steps per epoch: ⌈⌈N / batch⌉ / accumulation⌉ */
export function ceStepsPerEpoch(samples: number, batchSize: number, accumulation = 1): number {
  return Math.ceil(Math.ceil(samples / Math.min(batchSize, samples)) / accumulation);
}

export async function trainCE(
  model: ReferenceModel,
  params: Map<string, tf.Variable>,
  opt: Optimizer,
  ds: Dataset,
  split: Split,
  o: CeTrainOptions,
): Promise<TrainLoopResult> {
  const N = split.count;
  const bs = Math.min(o.batchSize, N);
  const accum = o.gradAccumulation ?? 1;
  const microPerEpoch = Math.ceil(N / bs);
  const batcher = new Batcher(ds, bs);
  const [h, w, c] = ds.inputShape;
  /** the micro-batches of step `s`: [first, last) and the samples they hold */
  const microsOf = (s: number) => {
    const first = s * accum;
    const last = Math.min(first + accum, microPerEpoch);
    return { first, last, inStep: Math.min(last * bs, N) - first * bs };
  };
  /** one optimizer step over `accum` micro-batches of the epoch's order, each weighted by its share of the step's samples */
  const runStep = (epoch: number, s: number, order: Uint32Array, step: number): StepOutcome => {
    const { first, last, inStep } = microsOf(s);
    const micros: MicroBatch[] = [];
    const tensors: tf.Tensor[] = [];
    for (let m = first; m < last; m++) {
      const start = m * bs;
      const n = Math.min(bs, N - start);
      // fill() returns views of the batcher's one buffer, and the cpu backend keeps the array it
      // is given: copy, or the next micro-batch's fill would overwrite this one's tensor
      const { x, y } = batcher.fill(split, order, start, n);
      const xt = tf.tensor4d(x.slice(), [n, h, w, c]);
      const yt = tf.tensor1d(y.slice(), "int32");
      tensors.push(xt, yt);
      const seed = hash32(o.seed, o.stream, epoch, start);
      micros.push({
        weight: n / inStep,
        loss: () => ({ loss: finetuneImageLoss(model, o.adapters, xt, yt, seed) }),
      });
    }
    const lr = o.lrAt(step);
    const r = optimizerStep(params, micros, opt, lr, o.clipGradNorm);
    tf.dispose(tensors);
    return { ...r, lr, samples: inStep };
  };
  const pool =
    o.parallel && o.parallel.threads > 1
      ? await GradPool.start({
          threads: o.parallel.threads,
          task: { kind: "finetune-image", adapters: adapterShapes(o.adapters) },
          model,
          params: new Map([...model.params, ...adapterVariables(o.adapters)]),
          adapters: o.adapters,
          trainable: params,
          maxBatch: bs,
          backend: o.parallel.backend,
        })
      : undefined;
  /** runStep's data-parallel twin: the same micro-batches, seeds and weights, summed in the same order */
  const runPoolStep = async (epoch: number, s: number, order: Uint32Array, step: number): Promise<StepOutcome> => {
    const { first, last, inStep } = microsOf(s);
    const micros = Array.from({ length: last - first }, (_, i) => () => {
      const start = (first + i) * bs;
      const n = Math.min(bs, N - start);
      // fill() reuses one buffer: the pool copies it into shared memory before the next fill
      const { x, y } = batcher.fill(split, order, start, n);
      return pool!.grads(x, y, n, hash32(o.seed, o.stream, epoch, start), n / inStep);
    });
    const lr = o.lrAt(step);
    return { ...(await poolOptimizerStep(micros, opt, lr, o.clipGradNorm)), lr, samples: inStep };
  };
  try {
    return await runTrainLoop({
      ctx: o.ctx,
      epochs: o.epochs,
      stepsPerEpoch: Math.ceil(microPerEpoch / accum),
      samples: N,
      seed: o.seed,
      shuffleStream: o.stream,
      runStep: pool ? runPoolStep : runStep,
      cadence: o.cadence,
      checkpoints: o.checkpoints,
      evaluate: o.evaluate,
      describeEpoch: o.describeEpoch,
      onStart: o.onStart,
      afterStep: o.afterStep,
    });
  } finally {
    await pool?.close();
  }
}
