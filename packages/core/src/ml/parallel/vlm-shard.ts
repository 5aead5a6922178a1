/**
 * The mini VLM's share of a data-parallel step (task vlm), the same code as the stage's
 * one-thread step (vlm/vlm-stages.ts):
 *   encoder   images and labels; cross-entropy, a mean over rows (shards weighted by rows)
 *   language  per row its image input — the frozen encoder's patch tokens [T·C] (the main
 *             thread's cache: the replicas never run the encoder) or, when the encoder trains,
 *             its pixels — then its ids padded to the LM's context; labels at the same
 *             stride. The micro-batch's length L and answer-token count travel as the task's
 *             numbers: the masked loss is a mean over answer tokens, so shards are weighted
 *             by their share of those, as in text-shard.ts.
 * The VLM has no dropout, so a shard needs no whole-batch rows.
 */
import * as tf from "@tensorflow/tfjs";

import type { VlmStageName } from "../../schemas/vlm-spec";
import { crossEntropy, IGNORE_INDEX, maskedLmLoss } from "../losses";
import { inferLayers } from "../models/layers";
import { encoderLayers, type MiniVlm, type VlmConfig, type VlmParts } from "../vlm/model";
import type { ShardInput } from "./shard-step";
import { answerTokens } from "./text-shard";
import { forwardMacs } from "./threads";

export type VlmShardTask = {
  kind: "vlm";
  config: VlmConfig;
  parts: VlmParts;
  /** language stages: what a row carries for its image (tokens: the frozen encoder's patch tokens) */
  image: "pixels" | "tokens" | null;
};

export function vlmTask(model: MiniVlm, stage: VlmStageName, frozenEncoder: boolean): VlmShardTask {
  return { kind: "vlm", config: model.config, parts: model.parts, image: stage === "encoder" ? null : frozenEncoder ? "tokens" : "pixels" };
}

/**
 * The trainable parameters the task's loss reaches: a language stage's loss never reaches the
 * encoder's classifier head (the tokens come from its last feature map), so one thread's step
 * gets no gradient for it and the optimizer leaves it be; the replicas must not send one.
 */
export function reachedParams(trainable: Map<string, tf.Variable>, task: VlmShardTask): Map<string, tf.Variable> {
  if (task.image === null) return trainable;
  return new Map([...trainable].filter(([name]) => !name.startsWith("encoder.head.")));
}

/** values per row of x and of y: an image row, or an image input plus the ids at the LM's context */
export function vlmSample(model: MiniVlm, task: VlmShardTask): { x: number; y: number } {
  const pixels = model.config.inputShape.reduce((a, b) => a * b, 1);
  if (task.image === null) return { x: pixels, y: 1 };
  const C = model.lmConfig.context;
  return { x: (task.image === "tokens" ? model.imageTokens * imageWidth(model) : pixels) + C, y: C };
}

const imageWidth = (model: MiniVlm) => model.params.get("proj.weight")!.shape[0]!;

export type VlmBatch = { x: Float32Array; y: Int32Array; aux: [length: number, tokens: number] };

/** `rows` image inputs (`image`, equal sizes per row) and padded sequences (ids, labels [rows·length]) at the pool's stride */
export function packVlmBatch(image: Float32Array, ids: Int32Array, labels: Int32Array, rows: number, length: number, context: number): VlmBatch {
  const per = image.length / rows;
  const stride = per + context;
  const x = new Float32Array(rows * stride);
  const y = new Int32Array(rows * context).fill(IGNORE_INDEX);
  for (let b = 0; b < rows; b++) {
    x.set(image.subarray(b * per, (b + 1) * per), b * stride);
    for (let t = 0; t < length; t++) {
      x[b * stride + per + t] = ids[b * length + t]!;
      y[b * context + t] = labels[b * length + t]!;
    }
  }
  return { x, y, aux: [length, answerTokens(labels, rows, length)] };
}

export function vlmShard(task: VlmShardTask, model: MiniVlm, varList: tf.Variable[], s: ShardInput): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const [h, w, c] = model.config.inputShape;
  if (task.image === null) {
    const n = s.y.length;
    const share = n === s.total ? s.weight : (s.weight * n) / s.total;
    return tf.tidy(() => {
      const xt = tf.tensor4d(s.x, [n, h, w, c]);
      const yt = tf.tensor1d(s.y, "int32");
      return tf.variableGrads(() => tf.mul(crossEntropy(model.encode(xt, true).logits, yt), share) as tf.Scalar, varList);
    });
  }
  const C = model.lmConfig.context;
  const n = s.y.length / C;
  const stride = s.x.length / n;
  const per = stride - C;
  const [L, tokens] = s.aux as [number, number];
  const image = new Float32Array(n * per);
  const ids = new Int32Array(n * L);
  const labels = new Int32Array(n * L);
  for (let b = 0; b < n; b++) {
    image.set(s.x.subarray(b * stride, b * stride + per), b * per);
    for (let t = 0; t < L; t++) {
      ids[b * L + t] = s.x[b * stride + per + t]!;
      labels[b * L + t] = s.y[b * C + t]!;
    }
  }
  const share = n === s.total ? s.weight : tokens > 0 ? (s.weight * answerTokens(labels, n, L)) / tokens : 0;
  return tf.tidy(() => {
    const y = tf.tensor2d(labels, [n, L], "int32");
    // frozen: the cached tokens are constants (outside the tape, as on one thread); else the encoder runs inside it
    const tok = task.image === "tokens" ? tf.tensor3d(image, [n, model.imageTokens, per / model.imageTokens]) : undefined;
    return tf.variableGrads(() => {
      const feats = tok ?? model.patchTokens(model.encode(tf.tensor4d(image, [n, h, w, c]), true).featureMap);
      const logits = model.logits(model.hidden(ids, L, model.project(feats))) as tf.Tensor3D;
      return tf.mul(maskedLmLoss(logits, y), share) as tf.Scalar;
    }, varList);
  });
}

/**
 * Forward multiply-adds per sample a replica computes: the encoder's (when it runs there),
 * then per sequence of the LM's context the projection of the image tokens, the one-hot
 * embedding, every layer's dense weights and attention, and the head.
 */
export function vlmMacsPerSample(model: MiniVlm, task: VlmShardTask): number {
  const encoder = forwardMacs(inferLayers("vlm encoder", encoderLayers(model.config), model.config.inputShape));
  if (task.image === null) return encoder;
  const { dModel: d, layers, vocab, context: L } = model.lmConfig;
  const lm = L * (vocab * d + layers * 12 * d * d + d * vocab) + layers * 2 * L * L * d + model.imageTokens * imageWidth(model) * d;
  return (task.image === "pixels" ? encoder : 0) + lm;
}
