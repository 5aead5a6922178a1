import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { selectBackend } from "./backend";
import { buildModel, describeModel } from "./models/reference-models";
import { printModels } from "./models/summary";

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

describe("seed models", () => {
  it("have their PyTorch originals' exact parameter counts", () => {
    expect(describeModel("mlp-mnist").paramCount).toBe(101_770);
    expect(describeModel("mlp-cifar").paramCount).toBe(394_634);
    expect(describeModel("deep-cnn", [32, 32, 3]).paramCount).toBe(1_186_986);
    expect(describeModel("light-cnn", [32, 32, 3]).paramCount).toBe(267_738);
  });

  it("prints Keras-style tables (heron models)", () => {
    const out = printModels();
    for (const n of ["101,770", "394,634", "1,186,986", "267,738"]) expect(out).toContain(`Total params: ${n}`);
    expect(out).toMatch(/features\.0 \(Conv2d\(3, 128, 3, pad 1\)\)\s+\(None, 32, 32, 128\)\s+3,584/);
    const mnistShaped = printModels([28, 28, 1]);
    expect(mnistShaped).toContain("Total params: 101,770"); // mlp-mnist at its own shape
    expect(mnistShaped).toMatch(/classifier\.0 \(Linear\(784, 256\)\)/); // light-cnn adapted: 7×7×16
  });

  it("adapt to the input shape and reject shapes that do not fit", () => {
    expect(describeModel("mlp-mnist", [32, 32, 3]).paramCount).toBe(3072 * 128 + 128 + 1290);
    expect(() => describeModel("light-cnn", [3, 3, 1])).toThrow(/too small/);
    expect(() => describeModel("resnet")).toThrow(/unknown model "resnet"/);
    expect(() => describeModel("mlp-mnist", [28, 28])).toThrow(/H,W,C/);
  });

  it("forward exposes logits, flattened features (PyTorch C,H,W order) and feature maps", () => {
    const teacher = buildModel("deep-cnn", [32, 32, 3], 10, { seed: 1 });
    const student = buildModel("light-cnn", [32, 32, 3], 10, { seed: 1 });
    tf.tidy(() => {
      const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
      const t = teacher.forward(x);
      const s = student.forward(x, { training: true, seed: 3 });
      expect(t.logits.shape).toEqual([2, 10]);
      expect(t.features!.shape).toEqual([2, 2048]);
      expect(t.featureMap!.shape).toEqual([2, 8, 8, 32]);
      expect(s.features!.shape).toEqual([2, 1024]);
      expect(s.featureMap!.shape).toEqual([2, 8, 8, 16]);
      // torch.flatten(NCHW): features[c*64 + h*8 + w] === featureMap[h, w, c]
      const f = s.features!.arraySync()[1]!;
      const m = s.featureMap!.arraySync()[1]!;
      expect(f[5 * 64 + 2 * 8 + 7]).toBeCloseTo(m[2]![7]![5]!, 6);
      expect(() => student.forward(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D)).toThrow(/expected input \[N,32,32,3\]/);
    });
    teacher.dispose();
    student.dispose();
  });

  it("init is seeded (same seed → same weights) and PyTorch-scaled", () => {
    const a = buildModel("mlp-mnist", undefined, 10, { seed: 7 });
    const b = buildModel("mlp-mnist", undefined, 10, { seed: 7 });
    const c = buildModel("mlp-mnist", undefined, 10, { seed: 8 });
    const wa = a.getWeights()["layer1.weight"]!;
    expect(Array.from(wa.slice(0, 50))).toEqual(Array.from(b.getWeights()["layer1.weight"]!.slice(0, 50)));
    expect(wa[0]).not.toBe(c.getWeights()["layer1.weight"]![0]);
    const bound = 1 / Math.sqrt(784);
    expect(Math.max(...wa.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...wa.map(Math.abs))).toBeGreaterThan(0.99 * bound);
    expect(Object.keys(a.getWeights())).toEqual(["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"]);
    [a, b, c].forEach((m) => m.dispose());
  });
});
