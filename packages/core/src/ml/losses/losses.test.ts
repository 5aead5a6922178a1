// Seed 004: every custom loss/layer against central finite differences of a float64
// reference (seed 003 / seed 002 formulas written out naively), plus the properties a user
// relies on: the teacher gets no gradient, masked tokens change nothing.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { selectBackend } from "../backend";
import { applyRegressor, createRegressorFor } from "../distill/regressor";
import { formatGradCheck, gradCheck, type GradInput } from "../gradcheck/grad-check";
import * as ref from "../gradcheck/reference";
import { loraDense } from "../lora/lora";
import { Rng } from "../rng";
import { avgPool1d, cosineEmbeddingLoss, crossEntropy, IGNORE_INDEX, kdSoftLoss, maskedLmLoss, mseLoss } from ".";

const rand = (n: number, seed: number, scale = 1) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal() * scale);
};
const BOUND = 1e-4; // float32 analytic vs float64 numeric

function check(name: string, o: Parameters<typeof gradCheck>[0]) {
  const r = gradCheck(o);
  console.log(formatGradCheck(name, r));
  expect(r.precision).toBe("float64-reference");
  expect(r.forwardError).toBeLessThan(1e-5);
  expect(r.maxRelError).toBeLessThan(BOUND);
  return r;
}

beforeAll(async () => {
  await selectBackend({ force: "cpu" });
});

describe("gradient checks (central differences, float64 reference)", () => {
  const N = 4,
    C = 5;
  const labels = [0, 3, 4, 1];

  it("cross-entropy", () => {
    check("ce", {
      inputs: [
        { name: "logits", shape: [N, C], values: rand(N * C, 1) },
        { name: "labels", shape: [N], values: labels, wrt: false, dtype: "int32" },
      ],
      fn: ([l, y]) => crossEntropy(l as tf.Tensor2D, y as tf.Tensor1D),
      reference: ([l, y]) => ref.refCrossEntropy(l!, y!, N, C),
    });
  });

  it("KD soft-target loss (T=2, T² scaling) — gradient reaches the student only", () => {
    for (const T of [1, 2, 4]) {
      check(`kd T=${T}`, {
        inputs: [
          { name: "student", shape: [N, C], values: rand(N * C, 2) },
          { name: "teacher", shape: [N, C], values: rand(N * C, 3, 2), wrt: false },
        ],
        fn: ([s, t]) => kdSoftLoss(s as tf.Tensor2D, t as tf.Tensor2D, T),
        reference: ([s, t]) => ref.refKdSoft(s!, t!, N, C, T),
      });
    }
    // KL(p‖p) = 0: a student equal to its teacher has nothing left to learn
    const same = tf.tensor2d(rand(N * C, 4), [N, C]);
    expect(kdSoftLoss(same, same, 2).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it("cosine-embedding loss with the teacher's features average-pooled 2:1", () => {
    const D = 6;
    check("cosine", {
      inputs: [
        { name: "student", shape: [N, D], values: rand(N * D, 5) },
        { name: "teacher", shape: [N, 2 * D], values: rand(N * 2 * D, 6), wrt: false },
      ],
      fn: ([s, t]) => cosineEmbeddingLoss(s as tf.Tensor2D, avgPool1d(t as tf.Tensor2D, 2)),
      reference: ([s, t]) => ref.refCosineEmbedding(s!, ref.refAvgPool1d(t!, N, 2 * D, 2), N, D),
    });
  });

  it("regressor conv 3×3 + MSE against the teacher's feature map", () => {
    const [n, h, w, cin, cout] = [2, 4, 4, 3, 5];
    const reg = createRegressorFor(cin, cout, 7);
    const W = reg.params.get("regressor.0.weight")!.dataSync();
    const b = reg.params.get("regressor.0.bias")!.dataSync();
    check("regressor", {
      inputs: [
        { name: "studentMap", shape: [n, h, w, cin], values: rand(n * h * w * cin, 8) },
        { name: "weight", shape: [3, 3, cin, cout], values: W },
        { name: "bias", shape: [cout], values: b },
        { name: "teacherMap", shape: [n, h, w, cout], values: rand(n * h * w * cout, 9), wrt: false },
      ],
      fn: ([x, wt, bt, t]) => {
        const r = {
          ...reg,
          params: new Map([
            ["regressor.0.weight", wt as tf.Variable],
            ["regressor.0.bias", bt as tf.Variable],
          ]),
        };
        return mseLoss(applyRegressor(r, x as tf.Tensor4D), t!);
      },
      reference: ([x, wt, bt, t]) => ref.refMse(ref.refConv3x3(x!, wt!, bt!, n, h, w, cin, cout), t!),
      maxPerInput: 40,
    });
  });

  it("LoRA dense layer: gradients for x, A and B (and W when not frozen)", () => {
    const [n, inF, outF, r, scale] = [3, 6, 5, 2, 16 / 2];
    const wsum = rand(n * outF, 10);
    check("lora", {
      inputs: [
        { name: "x", shape: [n, inF], values: rand(n * inF, 11) },
        { name: "W", shape: [inF, outF], values: rand(inF * outF, 12, 0.3) },
        { name: "b", shape: [outF], values: rand(outF, 13) },
        { name: "A", shape: [inF, r], values: rand(inF * r, 14, 0.3) },
        { name: "B", shape: [r, outF], values: rand(r * outF, 15, 0.3) },
      ],
      fn: ([x, W, b, A, B]) =>
        tf.sum(
          tf.mul(
            loraDense(x as tf.Tensor2D, W as tf.Tensor2D, b as tf.Tensor1D, { A: A as tf.Tensor2D, B: B as tf.Tensor2D, scale }),
            tf.tensor2d(wsum, [n, outF]),
          ),
        ) as tf.Scalar,
      reference: ([x, W, b, A, B]) => ref.refWeightedSum(ref.refLoraDense(x!, W!, b!, A!, B!, n, inF, outF, r, scale), wsum),
    });
  });

  it("masked SFT loss (labels −100 ignored, shifted by one)", () => {
    const [b, l, v] = [2, 6, 7];
    const lab = [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 4, 2, 6, IGNORE_INDEX, IGNORE_INDEX, 1, 3, IGNORE_INDEX, IGNORE_INDEX];
    check("masked-lm", {
      inputs: [
        { name: "logits", shape: [b, l, v], values: rand(b * l * v, 16) },
        { name: "labels", shape: [b, l], values: lab, wrt: false, dtype: "int32" },
      ],
      fn: ([lg, y]) => maskedLmLoss(lg as tf.Tensor3D, y as tf.Tensor2D),
      reference: ([lg, y]) => ref.refMaskedLm(lg!, y!, b, l, v),
    });
  });
});

describe("what the losses promise", () => {
  it("masked SFT: prompt positions (label −100) neither count nor receive gradient", () => {
    const [b, l, v] = [1, 5, 4];
    const logits = tf.tensor3d(rand(b * l * v, 20), [b, l, v]);
    const labels = tf.tensor2d([[IGNORE_INDEX, IGNORE_INDEX, 2, 1, 3]], [b, l], "int32");
    const g = tf.grad((x: tf.Tensor) => maskedLmLoss(x as tf.Tensor3D, labels))(logits);
    const gd = g.arraySync() as number[][][];
    // position t predicts label t+1: positions 0 (→ label −100) and 4 (no next token) are out
    expect(gd[0]![0]!.every((x) => x === 0)).toBe(true);
    expect(gd[0]![4]!.every((x) => x === 0)).toBe(true);
    expect(gd[0]![1]!.some((x) => x !== 0)).toBe(true);
    // changing a masked position's logits leaves the loss unchanged
    const l0 = maskedLmLoss(logits, labels).dataSync()[0]!;
    const poked = logits.arraySync();
    poked[0]![0]![1] = 50;
    expect(maskedLmLoss(tf.tensor3d(poked), labels).dataSync()[0]).toBeCloseTo(l0, 6);
  });

  it("float32-only fallback (no reference) still catches a wrong gradient", () => {
    const good = gradCheck({ inputs: [{ name: "x", shape: [3], values: [0.3, -1, 2] }], fn: ([x]) => tf.sum(tf.square(x!)) as tf.Scalar });
    expect(good.precision).toBe("float32-backend");
    expect(good.maxRelError).toBeLessThan(1e-2);
    // a custom op whose backward is off by 2×: the check must notice
    const broken = tf.customGrad(((x: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
      save([x]);
      return { value: tf.sum(tf.square(x)), gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => tf.mul(dy, tf.mul(xs!, 4)) };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const bad = gradCheck({ inputs: [{ name: "x", shape: [3], values: [0.3, -1, 2] }], fn: ([x]) => broken(x!) as tf.Scalar });
    expect(bad.maxRelError).toBeGreaterThan(0.4);
  });
});

export type { GradInput };
