/**
 * Cross-entropy training of an image reference model's `params` (all of them, a head, or
 * LoRA adapters) through the shared loop: gradient accumulation over micro-batches, the
 * caller's lr per step and clip, and — when the caller passes checkpoints — saves every N
 * steps and exact mid-epoch resume (data order and dropout are functions of seed, epoch and
 * position, see ../train-loop.ts).
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../../jobs/job-context";
import { Batcher, type Dataset, type Split } from "../datasets";
import type { LoraAdapter } from "../lora/lora";
import { crossEntropy } from "../losses";
import type { ReferenceModel } from "../models/reference-models";
import type { Optimizer } from "../optim";
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
import { forwardWithAdapters } from "./adapted-forward";
import { type MicroBatch, optimizerStep } from "./step";

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
};

/** optimizer steps per epoch: ⌈⌈N / batch⌉ / accumulation⌉ */
export function ceStepsPerEpoch(samples: number, batchSize: number, accumulation = 1): number {
  return Math.ceil(Math.ceil(samples / Math.min(batchSize, samples)) / accumulation);
}

export function trainCE(
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
  /** one optimizer step over `accum` micro-batches of the epoch's order, each weighted by its share of the step's samples */
  const runStep = (epoch: number, s: number, order: Uint32Array, step: number): StepOutcome => {
    const first = s * accum;
    const last = Math.min(first + accum, microPerEpoch);
    const inStep = Math.min(last * bs, N) - first * bs;
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
        loss: () => ({ loss: crossEntropy(forwardWithAdapters(model, xt, { training: true, seed }, o.adapters).logits, yt) }),
      });
    }
    const lr = o.lrAt(step);
    const r = optimizerStep(params, micros, opt, lr, o.clipGradNorm);
    tf.dispose(tensors);
    return { ...r, lr, samples: inStep };
  };
  return runTrainLoop({
    ctx: o.ctx,
    epochs: o.epochs,
    stepsPerEpoch: Math.ceil(microPerEpoch / accum),
    samples: N,
    seed: o.seed,
    shuffleStream: o.stream,
    runStep,
    cadence: o.cadence,
    checkpoints: o.checkpoints,
    evaluate: o.evaluate,
    describeEpoch: o.describeEpoch,
    onStart: o.onStart,
    afterStep: o.afterStep,
  });
}
