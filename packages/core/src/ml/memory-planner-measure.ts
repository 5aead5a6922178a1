/**
 * The backend's own figure beside the plan: one real training step (forward, backward,
 * optimizer update) of the spec's model on a random batch, under tf.profile. Its peak counts
 * what was already allocated (weights, optimizer slots), like a job's first step, which the
 * trainer profiles the same way.
 */
import * as tf from "@tensorflow/tfjs";

import type { TrainSpec } from "../schemas/train-spec";
import { selectBackend } from "./backend";
import { buildModel } from "./models/reference-models";
import { Optimizer } from "./optim";
import { Rng } from "./rng";

export type MeasureSpec = Pick<TrainSpec, "model"> & Partial<Pick<TrainSpec, "optimizer" | "momentum">>;

/** peak bytes the backend held during one training step at `batchSize`, and the backend's name */
export async function measureStepPeak(
  spec: MeasureSpec,
  o: { batchSize: number; inputShape: [number, number, number]; numClasses?: number },
): Promise<{ peakBytes: number; backend: string }> {
  const backend = await selectBackend();
  const classes = o.numClasses ?? 10;
  const model = buildModel(spec.model, o.inputShape, classes, { seed: 0 });
  model.fastConv = backend.name === "wasm" || backend.name === "cpu";
  const optimizer = spec.optimizer ?? "adam";
  const opt = new Optimizer(
    optimizer === "adam"
      ? { name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }
      : { name: "sgd", momentum: spec.momentum ?? 0, weightDecay: 0 },
    model.params,
  ).init();
  const [h, w, c] = o.inputShape;
  const rng = Rng.derive(0, "memory-measure");
  const x = new Float32Array(o.batchSize * h * w * c);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-1, 1);
  const y = Int32Array.from({ length: o.batchSize }, () => rng.int(classes));
  try {
    const prof = await tf.profile(() => {
      const xt = tf.tensor4d(x, [o.batchSize, h, w, c]);
      const yt = tf.oneHot(tf.tensor1d(y, "int32"), classes);
      const r = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(yt, model.forward(xt, { training: true, seed: 1 }).logits) as tf.Scalar,
        model.trainableWeights,
      );
      const grads = new Map<string, tf.Tensor>();
      for (const [name, v] of model.params) grads.set(name, r.grads[v.name]!);
      opt.apply(grads, 1e-3);
      tf.dispose([xt, yt, r.value]);
    });
    return { peakBytes: prof.peakBytes, backend: backend.name };
  } finally {
    opt.dispose();
    model.dispose();
  }
}
