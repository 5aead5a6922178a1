/**
 * What one optimizer step and one epoch-end evaluation compute in each VLM stage:
 *   encoder           cross-entropy of the CNN classifier; test/loss, test/accuracy
 *   pretrain / sft    the masked caption / answer loss (only answer tokens count, like seed
 *                     002's labels); held-out greedy answers scored by exact match
 * With a data-parallel pool the step's gradients come from its replicas (parallel/vlm-shard.ts
 * computes the same loss on each shard) and the optimizer step is this thread's, as before.
 * The training loop itself (order, checkpoints, resume, cadence) is ml/train-loop.ts.
 */
import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../../jobs/job-context";
import type { VlmStageName } from "../../schemas/vlm-spec";
import { Batcher, type Dataset } from "../datasets";
import { optimizerStep, poolOptimizerStep } from "../finetune/step";
import { crossEntropy, maskedLmLoss } from "../losses";
import type { Optimizer } from "../optim";
import type { GradPool } from "../parallel/grad-pool";
import { packVlmBatch } from "../parallel/vlm-shard";
import { Rng } from "../rng";
import type { EvalResult, StepOutcome } from "../train-loop";
import type { MiniVlm } from "./model";
import type { VlmTasks } from "./tasks";
import { padBatch, type WordTokenizer } from "./tokenizer";
import { type EvalItem, generateAnswers, heldOutLoss, imageSource, scoreAnswers, textSamples } from "./vlm-eval";

export type StageDeps = {
  stage: VlmStageName;
  model: MiniVlm;
  ds: Dataset;
  tasks: VlmTasks;
  tok: WordTokenizer;
  trainable: Map<string, tf.Variable>;
  frozen: ReadonlySet<string>;
  opt: Optimizer;
  ctx: JobContext;
  seed: number;
  batchSize: number;
  lrAt: (step: number) => number;
  /** 0: no clipping */
  clipGradNorm: number;
  samples: number;
  epochs: number;
  /** data-parallel replicas (absent: this thread alone) */
  pool?: GradPool;
};

/** the encoder's patch tokens never change in a stage that freezes all of it (they are cached) */
export function encoderFrozen(model: MiniVlm, frozen: ReadonlySet<string>): boolean {
  return [...model.params.keys()].filter((n) => n.startsWith("encoder.")).every((n) => frozen.has(n));
}

/**
 * Held-out images scored after each epoch but the last (greedy decoding of thousands of
 * answers costs about a quarter of an epoch on a CPU); the last epoch scores them all.
 */
export const VLM_EVAL_IMAGES_PER_EPOCH = 250;

export type StageRun = {
  runStep: (epoch: number, s: number, order: Uint32Array, step: number) => Promise<StepOutcome>;
  evaluate?: () => EvalResult;
  endEpoch?: (epoch: number, step: number) => void;
  /** the held-out metrics of the finished model (evaluated now when no epoch ended in this attempt) */
  finalMetrics: () => Record<string, number>;
};

const clip = (d: StageDeps) => (d.clipGradNorm > 0 ? d.clipGradNorm : undefined);

export function encoderStage(d: StageDeps): StageRun {
  const { model, ds, batchSize } = d;
  const [h, w, c] = ds.inputShape;
  const batcher = new Batcher(ds, Math.max(batchSize, 500));
  let last: EvalResult | undefined;
  const evaluate = (): EvalResult => {
    let loss = 0;
    let hits = 0;
    for (let s = 0; s < ds.test.count; s += 500) {
      const n = Math.min(500, ds.test.count - s);
      const { x, y } = batcher.fill(ds.test, null, s, n);
      const [l, k] = tf.tidy(() => {
        const logits = model.encode(tf.tensor4d(x, [n, h, w, c])).logits;
        const yt = tf.tensor1d(y, "int32");
        return [crossEntropy(logits, yt).dataSync()[0]! * n, tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), yt), "int32")).dataSync()[0]!];
      });
      loss += l;
      hits += k;
    }
    last = { loss: loss / ds.test.count, accuracy: hits / ds.test.count, count: ds.test.count };
    return last;
  };
  return {
    async runStep(_epoch, s, order, step) {
      const n = Math.min(batchSize, ds.train.count - s * batchSize);
      const { x, y } = batcher.fill(ds.train, order, s * batchSize, n);
      const lr = d.lrAt(step);
      const pool = d.pool;
      if (pool) {
        // no dropout in the encoder: the seed draws nothing
        const r = await poolOptimizerStep([() => pool.grads(x, y, n, 0, 1)], d.opt, lr, clip(d));
        return { loss: r.loss, gradNorm: r.gradNorm, lr, samples: n };
      }
      const xt = tf.tensor4d(x, [n, h, w, c]);
      const yt = tf.tensor1d(y, "int32");
      try {
        const r = optimizerStep(d.trainable, [{ weight: 1, loss: () => ({ loss: crossEntropy(model.encode(xt, true).logits, yt) }) }], d.opt, lr, clip(d));
        return { loss: r.loss, gradNorm: r.gradNorm, lr, samples: n };
      } finally {
        xt.dispose();
        yt.dispose();
      }
    },
    evaluate,
    finalMetrics: () => {
      const ev = last ?? evaluate();
      return { "test/accuracy": ev.accuracy, "test/loss": ev.loss };
    },
  };
}

/** the held-out items: a caption per test image; in sft also one class-name and one attribute question per image */
function evalItems(d: StageDeps, images: number): EvalItem[] {
  const items: EvalItem[] = [];
  const labels = d.ds.test.labels;
  for (let i = 0; i < images; i++) {
    const label = labels[i]!;
    if (d.stage === "sft") for (const q of d.tasks.evalPairs(label, i)) items.push({ image: i, question: q.question, answer: q.answer, kind: q.kind });
  }
  for (let i = 0; i < images; i++) {
    const rng = Rng.derive(0, "vlm-eval-caption", i);
    items.push({ image: i, question: d.tasks.captionPrompt(labels[i]!, rng), answer: d.tasks.caption(labels[i]!), kind: "caption" });
  }
  return items;
}

/**
 * pretrain: captions; sft: question/answer pairs with a caption as one more choice (so the
 * caption skill stays measured). Template and choices derive from (seed, epoch, index).
 */
function trainingPair(d: StageDeps, label: number, epoch: number, index: number): { question: string; answer: string } {
  const rng = Rng.derive(d.seed, `vlm-${d.stage}-pair`, epoch, index);
  const t = d.stage === "sft" ? rng.int(d.tasks.templateCount + 1) : d.tasks.templateCount;
  if (t === d.tasks.templateCount) return { question: d.tasks.captionPrompt(label, rng), answer: d.tasks.caption(label) };
  return d.tasks.question(label, t, rng);
}

export function languageStage(d: StageDeps): StageRun {
  const { model, ds, tok, batchSize, ctx } = d;
  const T = model.imageTokens;
  const frozenEncoder = encoderFrozen(model, d.frozen);
  const trainSrc = imageSource(model, ds, ds.train, frozenEncoder);
  const testSrc = imageSource(model, ds, ds.test, frozenEncoder);
  const pixels = new Batcher(ds, batchSize);
  const allItems = evalItems(d, ds.test.count);
  const someItems = evalItems(d, Math.min(ds.test.count, VLM_EVAL_IMAGES_PER_EPOCH));
  const mw = d.tasks.maxWords();
  let last: Record<string, number> | undefined;

  const measure = (items: EvalItem[]): Record<string, number> => {
    const preds = generateAnswers(model, tok, items, testSrc, mw.answer + 1);
    const score = scoreAnswers(items, preds);
    const m: Record<string, number> = { "test/loss": heldOutLoss(model, tok, items, testSrc), "caption/accuracy": score.byKind.caption ?? 0 };
    if (d.stage === "sft") {
      const vqa = items.map((it, i) => ({ it, p: preds[i]! })).filter((x) => x.it.kind !== "caption");
      m["vqa/accuracy"] = scoreAnswers(
        vqa.map((x) => x.it),
        vqa.map((x) => x.p),
      ).all;
      m["vqa/class_accuracy"] = score.byKind.class ?? 0;
      m["vqa/verify_accuracy"] = score.byKind.verify ?? 0;
      m["vqa/attribute_accuracy"] = score.byKind.attribute ?? 0;
    }
    last = m;
    return m;
  };

  return {
    async runStep(epoch, s, order, step) {
      const start = s * batchSize;
      const idx = order.subarray(start, Math.min(start + batchSize, ds.train.count));
      const n = idx.length;
      const ex = Array.from(idx, (i) => {
        const p = trainingPair(d, ds.train.labels[i]!, epoch, i);
        return tok.example(p.question, p.answer, T);
      });
      const { ids, labels, length } = padBatch(ex);
      const lr = d.lrAt(step);
      if (d.pool) return poolStep(d, d.pool, frozenEncoder ? tokensOf(trainSrc(idx, true)) : pixels.fill(ds.train, idx, 0, n).x, { ids, labels, length }, lr);
      const labelsT = tf.tensor2d(labels, [n, length], "int32");
      // a frozen encoder's tokens come from the cache, outside the tape
      const feats = frozenEncoder ? trainSrc(idx, true) : undefined;
      try {
        const loss = () => {
          const h = model.hidden(ids, length, model.project(feats ?? trainSrc(idx, true)));
          return { loss: maskedLmLoss(model.logits(h) as tf.Tensor3D, labelsT) };
        };
        const r = optimizerStep(d.trainable, [{ weight: 1, loss }], d.opt, lr, clip(d));
        return { loss: r.loss, gradNorm: r.gradNorm, lr, samples: n };
      } finally {
        labelsT.dispose();
        feats?.dispose();
      }
    },
    endEpoch(epoch, step) {
      const final = epoch + 1 === d.epochs;
      const preds = measure(final ? allItems : someItems);
      ctx.log(preds, step);
      const scope = final ? `all ${ds.test.count}` : `the first ${Math.min(ds.test.count, VLM_EVAL_IMAGES_PER_EPOCH)}`;
      const parts = Object.entries(preds).map(([k, v]) => `${k} ${k.endsWith("loss") ? v.toFixed(4) : (100 * v).toFixed(2) + "%"}`);
      ctx.info(`${d.stage}: epoch ${epoch + 1}/${d.epochs} (${scope} held-out images): ${parts.join(", ")}`);
      if (d.samples > 0) {
        const shown = allItems.slice(0, d.samples);
        const answers = generateAnswers(model, tok, shown, testSrc, mw.answer + 1);
        ctx.logText(d.stage === "sft" ? "vqa/samples" : "caption/samples", textSamples(ds, ds.test, shown, answers, d.samples), step);
      }
    },
    finalMetrics: () => last ?? measure(allItems),
  };
}

/**
 * A language stage's step on the replicas: each row carries its image input — the frozen
 * encoder's cached patch tokens, else its pixels — then its padded ids (parallel/vlm-shard.ts)
 */
async function poolStep(d: StageDeps, pool: GradPool, image: Float32Array, ex: ReturnType<typeof padBatch>, lr: number) {
  const n = ex.ids.length / ex.length;
  const b = packVlmBatch(image, ex.ids, ex.labels, n, ex.length, d.model.lmConfig.context);
  // no dropout in the VLM: the seed draws nothing
  const r = await poolOptimizerStep([() => pool.grads(b.x, b.y, n, 0, 1, b.aux)], d.opt, lr, clip(d));
  return { loss: r.loss, gradNorm: r.gradNorm, lr, samples: n };
}

/** a tensor's values, and the tensor disposed */
function tokensOf(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
