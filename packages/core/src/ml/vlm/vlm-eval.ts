/**
 * Image tokens for a batch of images, and held-out evaluation of the mini VLM: greedy
 * answers generated in batches, exact match of the normalised answer against the truth
 * (seed 001 measures nothing; this is the issue's `vqa/accuracy`), the teacher-forced
 * masked loss, and text samples with their image.
 */
import * as tf from "@tensorflow/tfjs";

import type { TextSample } from "../../jobs/job-context";
import { Batcher, type Dataset, type Split } from "../datasets";
import { maskedLmLoss } from "../losses";
import type { MiniVlm } from "./model";
import { encodePng } from "./png";
import { normalizeAnswer, type QaKind } from "./tasks";
import { END, PAD, padBatch, type WordTokenizer } from "./tokenizer";

/** patch tokens [n, T, C] of images `indices` of a split; `training`: inside the gradient tape */
export type ImageSource = (indices: ArrayLike<number>, training: boolean) => tf.Tensor3D;

/**
 * With a frozen encoder its patch tokens never change: computed once for the whole split
 * (outside any tape — no gradient can reach the encoder), then sliced per batch. Otherwise the
 * encoder runs per batch, inside the tape when training.
 */
export function imageSource(model: MiniVlm, ds: Dataset, split: Split, frozenEncoder: boolean): ImageSource {
  const [h, w, c] = ds.inputShape;
  const batcher = new Batcher(ds, 256);
  const run = (idx: ArrayLike<number>, training: boolean) => {
    const { x } = batcher.fill(split, idx, 0, idx.length);
    return model.patchTokens(model.encode(tf.tensor4d(x, [idx.length, h, w, c]), training).featureMap);
  };
  if (!frozenEncoder)
    return (indices, training) => {
      const out: tf.Tensor3D[] = [];
      for (let s = 0; s < indices.length; s += 256) out.push(run(Array.from(indices).slice(s, s + 256), training));
      return out.length === 1 ? out[0]! : tf.concat(out, 0);
    };
  const T = model.imageTokens;
  let width = 0;
  let cache = new Float32Array(0);
  for (let s = 0; s < split.count; s += 256) {
    const idx = Array.from({ length: Math.min(256, split.count - s) }, (_, i) => s + i);
    const part = tf.tidy(() => run(idx, false));
    width = part.shape[2];
    if (!cache.length) cache = new Float32Array(split.count * T * width);
    cache.set(part.dataSync(), s * T * width);
    part.dispose();
  }
  return (indices) => {
    const out = new Float32Array(indices.length * T * width);
    for (let i = 0; i < indices.length; i++) out.set(cache.subarray(indices[i]! * T * width, (indices[i]! + 1) * T * width), i * T * width);
    return tf.tensor3d(out, [indices.length, T, width]);
  };
}

export type EvalItem = { image: number; question: string; answer: string; kind: QaKind | "caption" };

/** greedy answers (decoded words) for each item, `chunk` rows per forward pass */
export function generateAnswers(model: MiniVlm, tok: WordTokenizer, items: readonly EvalItem[], source: ImageSource, maxNew: number, chunk = 250): string[] {
  const out: string[] = [];
  for (let s = 0; s < items.length; s += chunk) {
    const part = items.slice(s, s + chunk);
    const B = part.length;
    const seqs = part.map((it) => tok.prompt(it.question, model.imageTokens));
    const promptLen = seqs.map((q) => q.length);
    const done = new Array<boolean>(B).fill(false);
    const imgTok = tf.tidy(() =>
      model.project(
        source(
          part.map((it) => it.image),
          false,
        ),
      ),
    );
    for (let t = 0; t < maxNew && done.some((d) => !d); t++) {
      const L = Math.max(...seqs.map((q) => q.length));
      const ids = new Int32Array(B * L).fill(PAD);
      const sel = new Float32Array(B * L);
      seqs.forEach((q, b) => {
        ids.set(q, b * L);
        sel[b * L + q.length - 1] = 1;
      });
      const next = tf.tidy(() => {
        const h = model.hidden(ids, L, imgTok);
        // each row's last position only: [B,1,L] × [B,L,d] → [B,1,d]
        const last = tf.matMul(tf.tensor3d(sel, [B, 1, L]), h);
        return tf.argMax(tf.reshape(model.logits(last), [B, -1]), 1).dataSync();
      });
      seqs.forEach((q, b) => {
        if (done[b]) return;
        q.push(next[b]!);
        if (next[b] === END) done[b] = true;
      });
    }
    imgTok.dispose();
    seqs.forEach((q, b) => out.push(tok.decode(q.slice(promptLen[b]))));
  }
  return out;
}

/** mean masked loss over the items' answers (teacher forcing) */
export function heldOutLoss(model: MiniVlm, tok: WordTokenizer, items: readonly EvalItem[], source: ImageSource, chunk = 250): number {
  let sum = 0;
  let tokens = 0;
  for (let s = 0; s < items.length; s += chunk) {
    const part = items.slice(s, s + chunk);
    const ex = part.map((it) => tok.example(it.question, it.answer, model.imageTokens));
    const { ids, labels, length } = padBatch(ex);
    const count = ex.reduce((n, e) => n + e.labels.filter((l) => l >= 0).length, 0);
    const l = tf.tidy(() => {
      const h = model.hidden(
        ids,
        length,
        model.project(
          source(
            part.map((it) => it.image),
            false,
          ),
        ),
      );
      return maskedLmLoss(model.logits(h) as tf.Tensor3D, tf.tensor2d(labels, [part.length, length], "int32")).dataSync()[0]!;
    });
    sum += l * count;
    tokens += count;
  }
  return sum / Math.max(1, tokens);
}

/** exact-match accuracy overall and per kind */
export function scoreAnswers(items: readonly EvalItem[], predictions: readonly string[]): { all: number; byKind: Partial<Record<EvalItem["kind"], number>> } {
  const hits: Record<string, [number, number]> = {};
  let correct = 0;
  items.forEach((it, i) => {
    const ok = normalizeAnswer(predictions[i] ?? "") === normalizeAnswer(it.answer);
    correct += ok ? 1 : 0;
    const h = (hits[it.kind] ??= [0, 0]);
    h[0] += ok ? 1 : 0;
    h[1]++;
  });
  const byKind = Object.fromEntries(Object.entries(hits).map(([k, [c, n]]) => [k, c / n]));
  return { all: correct / Math.max(1, items.length), byKind };
}

/** the image of sample `index` as a PNG for a text sample */
export function sampleImage(ds: Dataset, split: Split, index: number): TextSample["image"] {
  const [h, w, c] = ds.inputShape;
  const px = split.images.subarray(index * h * w * c, (index + 1) * h * w * c);
  return { width: w, height: h, png: encodePng(px, w, h, c === 3 ? 3 : 1).toString("base64") };
}

/** rows of question, the model's answer beside the truth, and the image */
export function textSamples(ds: Dataset, split: Split, items: readonly EvalItem[], predictions: readonly string[], count: number): TextSample[] {
  return items.slice(0, count).map((it, i) => ({
    text: it.question,
    caption: `answer: ${predictions[i] ?? ""} | truth: ${it.answer}`,
    image: sampleImage(ds, split, it.image),
  }));
}
