/**
 * LoRA on the image reference models, applied as a weight delta: the forward pass swaps W for
 * W + (α/r)·A·B inside the gradient tape (the models' own forward stays untouched), which is
 * exact for dropout 0 — the schema refuses lora.dropout > 0 for image models.
 */
import type * as tf from "@tensorflow/tfjs";

import type { Dataset, Split } from "../datasets";
import { effectiveWeight, type LoraAdapter } from "../lora/lora";
import { crossEntropy } from "../losses";
import type { ForwardOptions } from "../models/layers";
import type { ForwardResult, ReferenceModel } from "../models/reference-models";
import { evaluate } from "../train-loop";

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

/**
 * A training micro-batch's (or its `rows` shard's) cross-entropy with the adapters: the one loss
 * of image fine-tuning, on one thread and on every data-parallel replica (parallel/replica.ts)
 */
export function finetuneImageLoss(
  model: ReferenceModel,
  adapters: Map<string, LoraAdapter> | undefined,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  seed: number,
  rows?: ForwardOptions["rows"],
): tf.Scalar {
  return crossEntropy(forwardWithAdapters(model, x, { training: true, seed, rows }, adapters).logits, y);
}

/** test-split loss and accuracy of base + adapters */
export function evalWith(model: ReferenceModel, ds: Dataset, split: Split, adapters?: Map<string, LoraAdapter>) {
  if (!adapters?.size) return evaluate(model, ds, split);
  const orig = model.forward.bind(model);
  model.forward = (x, o) => forwardWithAdapters({ ...model, forward: orig }, x, o ?? {}, adapters);
  try {
    return evaluate(model, ds, split);
  } finally {
    model.forward = orig;
  }
}
