/**
 * LoRA (Hu et al.; PEFT's defaults, as seed 002 configures it): for a frozen dense layer
 * y = x·W + b, an adapter adds  scale · dropout(x)·A·B  with A [in, r], B [r, out],
 * scale = alpha / r. A is initialised like PEFT's kaiming_uniform(a=√5) → U(±1/√in) and
 * B to zeros, so at step 0 the adapted model computes exactly the base model.
 * Merging folds the adapter into the weight, W' = W + scale·A·B, for export.
 */
import * as tf from "@tensorflow/tfjs";

import type { DenseLayerRef } from "../../schemas/finetune-spec";
import { type ForwardOptions, shardDropout } from "../models/layers";
import { Rng } from "../rng";

export type LoraOptions = { r: number; alpha: number; dropout: number; targets: string[] };

export type { DenseLayerRef };
export { matchesLoraTarget, selectLoraTargets } from "../../schemas/finetune-spec";

export type LoraAdapter = {
  /** the adapted layer, e.g. "layers.0.attn.q_proj" */
  layer: string;
  A: tf.Variable;
  B: tf.Variable;
  scale: number;
  dropout: number;
};

export function createLoraAdapters(targets: DenseLayerRef[], o: LoraOptions, seed: number): Map<string, LoraAdapter> {
  const out = new Map<string, LoraAdapter>();
  for (const t of targets) {
    const bound = 1 / Math.sqrt(t.inFeatures);
    const rng = Rng.derive(seed, "lora", t.name);
    const a = new Float32Array(t.inFeatures * o.r);
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
    out.set(t.name, {
      layer: t.name,
      A: tf.variable(tf.tensor2d(a, [t.inFeatures, o.r]), true, `lora/${seed}/${t.name}/A/${Math.random().toString(36).slice(2)}`),
      B: tf.variable(tf.zeros([o.r, t.outFeatures]), true, `lora/${seed}/${t.name}/B/${Math.random().toString(36).slice(2)}`),
      scale: o.alpha / o.r,
      dropout: o.dropout,
    });
  }
  return out;
}

/**
 * the adapter's contribution scale · dropout(x)·A·B for x [n, in]; with `rows`, x is those rows
 * of a larger batch and keeps its rows of the whole batch's dropout mask (data-parallel shards)
 */
export function loraDelta(
  x: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scale: number,
  dropout = 0,
  seed?: number,
  rows?: ForwardOptions["rows"],
): tf.Tensor2D {
  return tf.tidy(() => {
    const xd = dropout <= 0 ? x : rows ? (shardDropout(x, dropout, seed ?? 0, rows) as tf.Tensor2D) : (tf.dropout(x, dropout, undefined, seed) as tf.Tensor2D);
    return tf.mul(tf.matMul(tf.matMul(xd, a), b), scale) as tf.Tensor2D;
  });
}

/** y = x·W + bias + scale · dropout(x)·A·B — a dense layer with its adapter */
export function loraDense(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  ad: { A: tf.Tensor2D; B: tf.Tensor2D; scale: number; dropout?: number } | undefined,
  dropoutSeed?: number,
  rows?: ForwardOptions["rows"],
): tf.Tensor2D {
  return tf.tidy(() => {
    let y = tf.matMul(x, w);
    if (bias) y = tf.add(y, bias);
    if (ad) y = tf.add(y, loraDelta(x, ad.A, ad.B, ad.scale, ad.dropout ?? 0, dropoutSeed, rows));
    return y as tf.Tensor2D;
  });
}

/** W + scale·A·B as a tensor (kept in the tape: gradients reach A and B) */
export function effectiveWeight(w: tf.Tensor2D, ad: LoraAdapter): tf.Tensor2D {
  return tf.tidy(() => tf.add(w, tf.mul(tf.matMul(ad.A, ad.B), ad.scale)) as tf.Tensor2D);
}

/**
 * Folds adapters into a copy of the weights (name → Float32Array, weights "<layer>.weight"
 * [in, out]) so the exported model needs no adapter code: same outputs, base-sized file.
 */
export function mergeLoraWeights(weights: Record<string, Float32Array>, adapters: Map<string, LoraAdapter>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = { ...weights };
  for (const ad of adapters.values()) {
    const key = `${ad.layer}.weight`;
    const w = weights[key];
    if (!w) throw new Error(`cannot merge adapter: weights lack ${key}`);
    // read back outside tidy: tidy walks a returned typed array element by element looking for tensors
    const merged = tf.tidy(() => effectiveWeight(tf.tensor2d(w, [ad.A.shape[0], ad.B.shape[1]!]), ad));
    out[key] = merged.dataSync() as Float32Array;
    merged.dispose();
  }
  return out;
}

export function adapterWeights(adapters: Map<string, LoraAdapter>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const ad of adapters.values()) {
    out[`${ad.layer}.lora_A`] = ad.A.dataSync() as Float32Array;
    out[`${ad.layer}.lora_B`] = ad.B.dataSync() as Float32Array;
  }
  return out;
}

export function setAdapterWeights(adapters: Map<string, LoraAdapter>, w: Record<string, Float32Array>): void {
  for (const ad of adapters.values()) {
    const a = w[`${ad.layer}.lora_A`];
    const b = w[`${ad.layer}.lora_B`];
    if (!a || !b) throw new Error(`checkpoint lacks the LoRA adapter of ${ad.layer}`);
    ad.A.assign(tf.tensor(a, ad.A.shape));
    ad.B.assign(tf.tensor(b, ad.B.shape));
  }
}

export function disposeAdapters(adapters: Map<string, LoraAdapter>): void {
  for (const ad of adapters.values()) {
    ad.A.dispose();
    ad.B.dispose();
  }
}
