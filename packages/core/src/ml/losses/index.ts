/**
 * The custom losses of seed 003 (distillation) and seed 002 (prompt-masked SFT), as plain
 * tfjs ops so tf.variableGrads differentiates them. Each one has a float64 reference in
 * ../gradcheck/reference.ts and a finite-difference gradient test (../gradcheck/grad-check.ts).
 *
 * Teacher tensors passed in here must come from a forward pass run *outside* the gradient
 * tape (the distillation step does that: the equivalent of `with torch.no_grad()`), so no
 * gradient can flow into the teacher.
 */
import * as tf from "@tensorflow/tfjs";

/** PyTorch's label value that masks a token out of the loss (CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/** nn.CrossEntropyLoss(): mean over the batch of −log softmax(logits)[label]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(labels, "int32"), logits.shape[1]);
    return tf.neg(tf.div(tf.sum(tf.mul(onehot, logp)), logits.shape[0])) as tf.Scalar;
  });
}

/**
 * Seed 003's soft-target loss, term for term:
 *   soft_targets = softmax(teacher / T); soft_prob = log_softmax(student / T)
 *   sum(soft_targets · (log soft_targets − soft_prob)) / batch · T²
 * i.e. KL(teacher ‖ student) at temperature T, scaled by T² so its gradient keeps the
 * magnitude of the hard-label term when T changes (Hinton et al.).
 */
export function kdSoftLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, T: number): tf.Scalar {
  return tf.tidy(() => {
    const logT = tf.logSoftmax(tf.div(teacherLogits, T));
    const logS = tf.logSoftmax(tf.div(studentLogits, T));
    const kl = tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)));
    return tf.mul(tf.div(kl, studentLogits.shape[0]), T * T) as tf.Scalar;
  });
}

/**
 * nn.CosineEmbeddingLoss() with target +1 for every pair: mean over the batch of
 * 1 − cos(a_i, b_i), with PyTorch's ε = 1e-12 inside the norms' product.
 */
export function cosineEmbeddingLoss(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  if (a.shape[1] !== b.shape[1]) throw new Error(`cosine loss needs equal widths, got ${a.shape[1]} and ${b.shape[1]}`);
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), 1);
    const na = tf.add(tf.sum(tf.square(a), 1), 1e-12);
    const nb = tf.add(tf.sum(tf.square(b), 1), 1e-12);
    const cos = tf.div(dot, tf.sqrt(tf.mul(na, nb)));
    return tf.mean(tf.sub(1, cos)) as tf.Scalar;
  });
}

/**
 * torch.nn.functional.avg_pool1d(x, k) on a [N, D] matrix: averages k adjacent features,
 * [N, D] → [N, D/k]. Seed 003 pools the teacher's 2048 flattened features to the
 * student's 1024 this way.
 */
export function avgPool1d(x: tf.Tensor2D, k: number): tf.Tensor2D {
  const [n, d] = x.shape;
  if (d % k !== 0) throw new Error(`avg_pool1d: width ${d} is not a multiple of ${k}`);
  return tf.tidy(() => tf.mean(tf.reshape(x, [n, d / k, k]), 2) as tf.Tensor2D);
}

/** nn.MSELoss(): mean of squared differences over every element. */
export function mseLoss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/**
 * Causal-LM loss with prompt masking, as transformers computes it for seed 002's
 * `process_func` labels: logits at position t predict labels[t+1]; positions whose label
 * is −100 (the prompt, padding) are left out; the mean is over the remaining tokens.
 * `labels` are aligned with the input ids (the shift happens here, like HF's model does).
 */
export function maskedLmLoss(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  const [b, l, v] = logits.shape;
  return tf.tidy(() => {
    const pred = tf.slice(logits, [0, 0, 0], [b, l - 1, v]);
    const tgt = tf.cast(tf.slice(labels, [0, 1], [b, l - 1]), "int32");
    const mask = tf.cast(tf.notEqual(tgt, IGNORE_INDEX), "float32");
    const safe = tf.maximum(tgt, tf.scalar(0, "int32"));
    const logp = tf.logSoftmax(pred);
    const picked = tf.sum(tf.mul(tf.oneHot(safe, v), logp), 2);
    const count = tf.maximum(tf.sum(mask), 1);
    return tf.neg(tf.div(tf.sum(tf.mul(picked, mask)), count)) as tf.Scalar;
  });
}
