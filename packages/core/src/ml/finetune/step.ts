/**
 * One optimizer step shared by the distillation and fine-tuning loops (the trainer's loop
 * is specialised to plain CE): micro-batches' gradients summed (gradient accumulation),
 * the global L2 norm of the summed gradients, optional clipping, one optimizer update.
 * `train/grad_norm` is that norm — of the gradients actually applied (before clipping,
 * like transformers' Trainer logs it).
 */
import * as tf from "@tensorflow/tfjs";

import type { Optimizer } from "../optim";
import type { PoolGrads } from "../parallel/grad-pool";

export type LossOut = { loss: tf.Scalar; parts?: Record<string, tf.Scalar> };

export type MicroBatch = {
  /** share of this micro-batch in the step's mean (n / samples in the step) */
  weight: number;
  /** runs inside the gradient tape: only what should receive gradients belongs here */
  loss: () => LossOut;
};

export type StepResult = { loss: number; gradNorm: number; parts: Record<string, number> };

/** Sums gradients of the weighted micro-batch losses w.r.t. `params` (frozen tensors excluded). */
export function accumulateGradients(
  params: Map<string, tf.Variable>,
  micros: MicroBatch[],
): { grads: Map<string, tf.Tensor>; loss: number; parts: Record<string, number> } {
  const varList = [...params.values()];
  const grads = new Map<string, tf.Tensor>();
  const parts: Record<string, number> = {};
  let loss = 0;
  for (const m of micros) {
    const kept: Record<string, tf.Scalar> = {};
    const r = tf.variableGrads(() => {
      const out = m.loss();
      for (const [k, v] of Object.entries(out.parts ?? {})) kept[k] = tf.keep(v);
      return tf.mul(out.loss, m.weight) as tf.Scalar;
    }, varList);
    loss += r.value.dataSync()[0]!;
    r.value.dispose();
    for (const [k, v] of Object.entries(kept)) {
      parts[k] = (parts[k] ?? 0) + v.dataSync()[0]! * m.weight;
      v.dispose();
    }
    for (const [name, v] of params) {
      const g = r.grads[v.name];
      if (!g) continue;
      const prev = grads.get(name);
      if (prev) {
        grads.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else grads.set(name, g);
    }
  }
  return { grads, loss, parts };
}

/** global L2 norm over every gradient tensor */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  const list = [...grads];
  if (!list.length) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(list.map((t) => tf.sum(tf.square(t))))).dataSync()[0]!);
}

export function optimizerStep(params: Map<string, tf.Variable>, micros: MicroBatch[], opt: Optimizer, lr: number, clipGradNorm?: number): StepResult {
  const { grads, loss, parts } = accumulateGradients(params, micros);
  return applyGradients(grads, loss, parts, opt, lr, clipGradNorm);
}

/**
 * optimizerStep on data-parallel replicas: each micro-batch's gradients come from the pool
 * (already × its weight, summed over the replicas) and are summed in micro-batch order, as
 * accumulateGradients does on one thread
 */
export async function poolOptimizerStep(micros: (() => Promise<PoolGrads>)[], opt: Optimizer, lr: number, clipGradNorm?: number): Promise<StepResult> {
  let grads: Map<string, tf.Tensor> | undefined;
  let loss = 0;
  for (const micro of micros) {
    const r = await micro();
    loss += r.value.dataSync()[0]!;
    r.value.dispose();
    if (!grads) grads = r.grads;
    else
      for (const [name, g] of r.grads) {
        const prev = grads.get(name)!;
        grads.set(name, tf.add(prev, g));
        tf.dispose([prev, g]);
      }
  }
  return applyGradients(grads!, loss, {}, opt, lr, clipGradNorm);
}

/** the update half of a step, for gradients summed elsewhere (data-parallel replicas); `grads` are consumed */
export function applyGradients(
  grads: Map<string, tf.Tensor>,
  loss: number,
  parts: Record<string, number>,
  opt: Optimizer,
  lr: number,
  clipGradNorm?: number,
): StepResult {
  const gradNorm = globalNorm(grads.values());
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    for (const g of grads.values()) g.dispose();
    throw new Error(
      `training diverged: ${Number.isFinite(loss) ? `gradient norm is ${gradNorm}` : `loss is ${loss}`} (lr ${lr.toPrecision(3)}); lower lr or set clipGradNorm`,
    );
  }
  if (clipGradNorm !== undefined && gradNorm > clipGradNorm) {
    // torch.nn.utils.clip_grad_norm_: scale by max/(norm + 1e-6)
    const scale = clipGradNorm / (gradNorm + 1e-6);
    for (const [n, g] of grads) {
      grads.set(n, tf.mul(g, scale));
      g.dispose();
    }
  }
  opt.apply(grads, lr);
  return { loss, gradNorm, parts };
}
