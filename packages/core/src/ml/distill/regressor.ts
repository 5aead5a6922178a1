/**
 * Seed 003's intermediate regressor: nn.Conv2d(student channels, teacher channels, 3,
 * padding=1) on the student's last feature map, trained with the student so the student
 * is not forced to copy the teacher's representation 1:1 (hint-based distillation).
 * PyTorch default init, U(±1/√fan_in), seeded.
 */
import * as tf from "@tensorflow/tfjs";

import { describeDistillFeatures } from "../../schemas/distill-spec";
import type { ReferenceModel } from "../models/reference-models";
import { Rng } from "../rng";

export type Regressor = { params: Map<string, tf.Variable>; inChannels: number; outChannels: number };

export function createRegressor(student: ReferenceModel, teacher: ReferenceModel, input: [number, number, number], seed: number): Regressor {
  const s = describeDistillFeatures(student.name, input).featureMap;
  const t = describeDistillFeatures(teacher.name, input).featureMap;
  if (!s || !t) throw new Error(`regressor needs feature maps from both models (${student.name}, ${teacher.name})`);
  return createRegressorFor(s[2], t[2], seed);
}

export function createRegressorFor(inChannels: number, outChannels: number, seed: number): Regressor {
  const fanIn = 9 * inChannels;
  const bound = 1 / Math.sqrt(fanIn);
  const init = (name: string, shape: number[]) => {
    const rng = Rng.derive(seed, "init", "regressor", name);
    const size = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) v[i] = rng.uniform(-bound, bound);
    return tf.variable(tf.tensor(v, shape), true, `regressor/${name}/${Math.random().toString(36).slice(2)}`);
  };
  const params = new Map<string, tf.Variable>([
    ["regressor.0.weight", init("regressor.0.weight", [3, 3, inChannels, outChannels])],
    ["regressor.0.bias", init("regressor.0.bias", [outChannels])],
  ]);
  return { params, inChannels, outChannels };
}

/** conv 3×3, stride 1, "same" (= padding 1), NHWC; no activation (seed 003's is linear) */
export function applyRegressor(r: Regressor, x: tf.Tensor4D): tf.Tensor4D {
  return tf.conv2d(x, r.params.get("regressor.0.weight")! as unknown as tf.Tensor4D, 1, "same").add(r.params.get("regressor.0.bias")!) as tf.Tensor4D;
}
