/**
 * The one training loop behind `train`, `distill` and `finetune` (image and text) jobs: epochs × optimizer
 * steps over a per-epoch data order, with the concerns every job shares — cancellation at a
 * step boundary, a checkpoint every `checkpointEvery` steps, at each epoch end and on stop,
 * exact mid-epoch resume, the log / progress cadence, evaluation per epoch, and yielding to
 * the event loop. What a step computes (loss, micro-batches, clipping) is the caller's
 * `runStep`. Data order is `Rng.derive(seed, stream, epoch)` and a step's position is
 * (epoch, step in epoch), so an attempt resumed from a checkpoint replays the same steps bit
 * for bit.
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../jobs/job-context";
import { type CheckpointState, loadLatestCheckpoint, saveCheckpoint } from "./checkpoint";
import { Batcher, type Dataset, type Split } from "./datasets";
import type { ReferenceModel } from "./models/reference-models";
import { Rng } from "./rng";

export type EvalResult = { loss: number; accuracy: number; count: number };

/** mean cross-entropy and accuracy (0..1) over a split, in batches */
export function evaluate(model: ReferenceModel, ds: Dataset, split: Split, batchSize = 1000): EvalResult {
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

/** what one optimizer step reports back to the loop */
export type StepOutcome = { loss: number; gradNorm: number; lr: number; samples: number; parts?: Record<string, number> };

/** where an attempt stands: optimizer steps done, the epoch it is in and the steps done inside it */
export type LoopPosition = { step: number; epoch: number; stepInEpoch: number };

export type StepInfo = { epoch: number; stepInEpoch: number; step: number; epochFloat: number; seconds: number; samples: number };

/** checkpointing: where, what to store besides the position, and how to take a stored one back */
export type LoopCheckpoints = {
  dir: string;
  every?: number;
  /** the state to store; `extra` is merged before the loop's own extra (e.g. testAccuracy) */
  snapshot: () => Omit<CheckpointState, "step" | "epoch" | "stepInEpoch">;
  /** applies a stored checkpoint's weights and optimizer state; false when it belongs to something else */
  restore: (ck: CheckpointState) => boolean | Promise<boolean>;
};

export type LogCadence = {
  logEvery: number;
  /** also log the final step off the logEvery grid (the distillation comparison reads it) */
  logFinalStep?: boolean;
  /** "throttled": progress at most once a second and at the end; "with-log": alongside each log */
  progress: "throttled" | "with-log" | "none";
  /** samples an optimizer step consumes, for the ETA */
  samplesPerStep: number;
  /** train/loss is the mean over the steps since the previous log (transformers' Trainer), not the logged step's alone */
  meanLoss?: boolean;
};

export type TrainLoopOptions = {
  ctx: JobContext;
  /** prefixes messages ("kd: ") */
  label?: string;
  /** prefixes metric keys ("kd/") */
  prefix?: string;
  epochs: number;
  stepsPerEpoch: number;
  /** number of samples shuffled per epoch and the RNG stream of that shuffle */
  samples: number;
  seed: number;
  shuffleStream?: string;
  runStep: (epoch: number, stepInEpoch: number, order: Uint32Array, step: number) => StepOutcome | Promise<StepOutcome>;
  cadence?: LogCadence;
  /** extra per-step reporting beside (or instead of) the cadence's train/* keys */
  afterStep?: (r: StepOutcome, info: StepInfo) => void;
  /** absent: a stop request throws "aborted" (nothing to resume from) */
  checkpoints?: LoopCheckpoints;
  /** test-split evaluation at each epoch end, logged as test/loss and test/accuracy */
  evaluate?: () => EvalResult;
  describeEpoch?: (epoch: number, ev: EvalResult) => string;
  /** runs at each epoch end after evaluation (e.g. a job's own epoch metrics) */
  endEpoch?: (epoch: number, step: number) => void;
  /** runs once the start position is known (after a resume), before the first step */
  onStart?: (from: LoopPosition) => void;
};

export type TrainLoopResult = { step: number; aborted: boolean; last?: EvalResult; seconds: number; samples: number };

/** position to continue from, or the start when `dir` holds no checkpoint this job accepts */
async function resume(o: TrainLoopOptions): Promise<LoopPosition> {
  const start = { step: 0, epoch: 0, stepInEpoch: 0 };
  const ck = o.checkpoints && loadLatestCheckpoint(o.checkpoints.dir, o.ctx.warn);
  if (!ck || !(await o.checkpoints!.restore(ck))) return start;
  // checkpoints written before mid-epoch resume existed hold no stepInEpoch (epoch boundaries)
  const pos = { step: ck.step, epoch: ck.epoch, stepInEpoch: ck.stepInEpoch ?? 0 };
  o.ctx.info(`${o.label ?? ""}resumed from checkpoint at step ${pos.step} (epoch ${pos.epoch + 1}, step ${pos.stepInEpoch} of ${o.stepsPerEpoch})`);
  return pos;
}

/** the train/* keys every logEvery steps, and progress at the cadence's rate */
function makeReporter(o: TrainLoopOptions, totalSteps: number) {
  const c = o.cadence;
  const prefix = o.prefix ?? "";
  let lastProgress = 0;
  let lossSum = 0;
  let lossSteps = 0;
  return (r: StepOutcome, info: StepInfo) => {
    if (!c) return;
    lossSum += r.loss;
    lossSteps++;
    const logged = info.step % c.logEvery === 0 || (c.logFinalStep === true && info.step === totalSteps);
    if (logged) {
      const loss = c.meanLoss ? lossSum / lossSteps : r.loss;
      lossSum = lossSteps = 0;
      const m: Record<string, number> = { "train/loss": loss, "train/grad_norm": r.gradNorm, "train/lr": r.lr, "train/epoch": info.epochFloat, ...r.parts };
      o.ctx.log(prefix ? Object.fromEntries(Object.entries(m).map(([k, v]) => [prefix + k, v])) : m, info.step);
    }
    const now = performance.now();
    const due = c.progress === "with-log" ? logged : c.progress === "throttled" && (now - lastProgress > 1000 || info.step === totalSteps);
    if (!due) return;
    lastProgress = now;
    const sps = info.samples / Math.max(1e-9, info.seconds);
    o.ctx.progress({
      epoch: info.epoch + 1,
      epochs: o.epochs,
      step: info.step,
      totalSteps,
      samplesPerSec: sps,
      etaSec: ((totalSteps - info.step) * c.samplesPerStep) / Math.max(1e-9, sps),
    });
  };
}

export async function runTrainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { ctx, checkpoints } = o;
  const label = o.label ?? "";
  const prefix = o.prefix ?? "";
  const totalSteps = o.stepsPerEpoch * o.epochs;
  const from = await resume(o);
  o.onStart?.(from);
  let step = from.step;
  const save = (epoch: number, stepInEpoch: number, extra: Record<string, unknown> = {}) => {
    if (!checkpoints) return;
    const snap = checkpoints.snapshot();
    saveCheckpoint(checkpoints.dir, { ...snap, step, epoch, stepInEpoch, extra: { ...snap.extra, ...extra } });
  };
  const report = makeReporter(o, totalSteps);
  let seconds = 0;
  let samples = 0;
  let last: EvalResult | undefined;
  let lastYield = performance.now();
  for (let epoch = from.epoch; epoch < o.epochs; epoch++) {
    const order = Rng.derive(o.seed, o.shuffleStream ?? "shuffle", epoch).permutation(o.samples);
    for (let s = epoch === from.epoch ? from.stepInEpoch : 0; s < o.stepsPerEpoch; s++) {
      if (ctx.signal.aborted) {
        if (!checkpoints) throw new Error("aborted");
        save(epoch, s);
        ctx.info(`${label}stopped at step ${step} (checkpoint written); a new attempt resumes from here`);
        return { step, aborted: true, last, seconds, samples };
      }
      const t0 = performance.now();
      const r = await o.runStep(epoch, s, order, step);
      step++;
      seconds += (performance.now() - t0) / 1000;
      samples += r.samples;
      const info = { epoch, stepInEpoch: s, step, epochFloat: epoch + (s + 1) / o.stepsPerEpoch, seconds, samples };
      report(r, info);
      o.afterStep?.(r, info);
      if (checkpoints?.every && step % checkpoints.every === 0 && s + 1 < o.stepsPerEpoch) save(epoch, s + 1);
      // let the event loop run every ~100 ms: without it the tracking SDK sends nothing until the
      // job ends (no live charts), and SIGTERM (cancel/drain) and the runner's IPC go unheard
      const now = performance.now();
      if (now - lastYield > 100) {
        lastYield = now;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    let extra: Record<string, unknown> = {};
    if (o.evaluate) {
      const ev = o.evaluate();
      last = ev;
      ctx.log({ [`${prefix}test/loss`]: ev.loss, [`${prefix}test/accuracy`]: ev.accuracy }, step);
      if (o.describeEpoch) ctx.info(o.describeEpoch(epoch, ev));
      extra = { testAccuracy: ev.accuracy };
    }
    o.endEpoch?.(epoch, step);
    save(epoch + 1, 0, extra);
  }
  // resumed after the final epoch: report the finished model
  if (!last && o.evaluate) last = o.evaluate();
  return { step, aborted: false, last, seconds, samples };
}
