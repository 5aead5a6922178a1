/**
 * The text model's share of a data-parallel step (task finetune-text). A micro-batch of
 * sequences travels padded to the model's context — ids as floats (exact: the vocabulary is
 * far below 2²⁴) and labels — with its own length L and answer-token count as the task's
 * numbers, so a shard computes on exactly the [rows, L] tensors one thread would. The masked
 * LM loss is a mean over the micro-batch's answer tokens, so shards are weighted by their
 * share of those tokens, not of its rows.
 */
import * as tf from "@tensorflow/tfjs";

import { denseLayersOf, type TextModelConfig } from "../../schemas/finetune-spec";
import type { LoraAdapter } from "../lora/lora";
import { IGNORE_INDEX, maskedLmLoss } from "../losses";
import type { CharTransformer } from "../text/char-transformer";
import type { ShardInput } from "./shard-step";

export type TextBatch = { x: Float32Array; y: Int32Array; rows: number; aux: [length: number, tokens: number] };

/** the tokens maskedLmLoss averages over: labels other than −100 at positions 1…L−1 */
export function answerTokens(labels: ArrayLike<number>, rows: number, length: number): number {
  let n = 0;
  for (let b = 0; b < rows; b++) for (let t = 1; t < length; t++) if (labels[b * length + t] !== IGNORE_INDEX) n++;
  return n;
}

/** `rows` collated sequences of `length` tokens (ids, labels [rows·length]) laid out at the pool's stride, the context */
export function packTextBatch(ids: ArrayLike<number>, labels: ArrayLike<number>, rows: number, length: number, context: number): TextBatch {
  const x = new Float32Array(rows * context);
  const y = new Int32Array(rows * context).fill(IGNORE_INDEX);
  for (let b = 0; b < rows; b++)
    for (let t = 0; t < length; t++) {
      x[b * context + t] = ids[b * length + t]!;
      y[b * context + t] = labels[b * length + t]!;
    }
  return { x, y, rows, aux: [length, answerTokens(labels, rows, length)] };
}

export function textShard(
  config: TextModelConfig,
  text: CharTransformer,
  adapters: Map<string, LoraAdapter> | undefined,
  varList: tf.Variable[],
  s: ShardInput,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const C = config.context;
  const n = s.y.length / C;
  const [L, tokens] = s.aux as [number, number];
  const ids = new Int32Array(n * L);
  const labels = new Int32Array(n * L);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < L; t++) {
      ids[b * L + t] = s.x[b * C + t]!;
      labels[b * L + t] = s.y[b * C + t]!;
    }
  const share = n === s.total ? s.weight : tokens > 0 ? (s.weight * answerTokens(labels, n, L)) / tokens : 0;
  const rows = n === s.total ? undefined : { offset: s.offset, total: s.total };
  return tf.tidy(() => {
    const x = tf.tensor2d(ids, [n, L], "int32");
    const y = tf.tensor2d(labels, [n, L], "int32");
    return tf.variableGrads(() => tf.mul(maskedLmLoss(text.forward(x, { training: true, seed: s.seed, adapters, rows }), y), share) as tf.Scalar, varList);
  });
}

/** forward multiply-adds per sequence of the context's length: dense layers, attention, the one-hot embedding */
export function textMacsPerSample(config: TextModelConfig, vocab: number): number {
  const L = config.context;
  const dense = denseLayersOf({ text: config, vocab }).reduce((a, l) => a + l.inFeatures * l.outFeatures, 0);
  return L * dense + config.layers * 2 * L * L * config.dModel + L * vocab * config.dModel;
}
