/**
 * One shard's share of a classification step, the same code on the main thread and in the
 * workers: softmax cross-entropy of the shard's rows, scaled so that the shards' losses and
 * gradients SUM to the whole micro-batch's (mean over its rows × the micro-batch's weight).
 */
import * as tf from "@tensorflow/tfjs";

import type { ReferenceModel } from "../models/reference-models";

export type ShardInput = {
  x: Float32Array;
  y: Int32Array;
  /** where these rows sit in the micro-batch (dropout masks, loss share) */
  offset: number;
  total: number;
  seed: number;
  /** the micro-batch's share of the optimizer step (samples / samples of the step) */
  weight: number;
  /** the task's numbers about the whole micro-batch (GradPool.grads' `aux`) */
  aux?: number[];
};

export function shardGrads(model: ReferenceModel, trainable: tf.Variable[], s: ShardInput): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const n = s.y.length;
  const [h, w, c] = model.inputShape;
  return tf.tidy(() => {
    const xt = tf.tensor4d(s.x, [n, h, w, c]);
    const yt = tf.oneHot(tf.tensor1d(s.y, "int32"), model.numClasses);
    return tf.variableGrads(() => {
      const rows = s.total === n ? undefined : { offset: s.offset, total: s.total };
      const logits = model.forward(xt, { training: true, seed: s.seed, rows }).logits;
      return tf.mul(tf.losses.softmaxCrossEntropy(yt, logits), n === s.total ? s.weight : (s.weight * n) / s.total) as tf.Scalar;
    }, trainable);
  });
}
