import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { backendLoadErrors, selectBackend } from "./backend";
import { conv3x3ReluFast } from "./models/conv-ops";
import { Rng } from "./rng";
import { relErr } from "./test-helpers";

const rand = (shape: number[], seed: number) => {
  const r = new Rng(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()),
    shape,
  );
};

/** runs f on cpu and on wasm with the same inputs; returns both results as flat arrays */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const out: Record<string, Float32Array[]> = {};
  for (const b of ["cpu", "wasm"]) {
    await selectBackend({ force: b });
    out[b] = tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
    });
  }
  return { cpu: out.cpu!, wasm: out.wasm! };
}

describe("backend selection", () => {
  afterAll(async () => {
    await selectBackend({ force: "wasm" });
  });

  it("falls back past the absent tfjs-node packages to wasm, idempotently", async () => {
    delete process.env.HERON_BACKEND;
    const a = await selectBackend();
    const b = await selectBackend();
    expect(a.name).toBe("wasm");
    expect(b).toEqual(a);
    expect(tf.getBackend()).toBe("wasm");
    // the GPU / native packages are not installed here: recorded as skipped, never thrown
    expect(Object.keys(backendLoadErrors())).toEqual(expect.arrayContaining(["tensorflow-gpu", "tensorflow"]));
  });

  it("HERON_BACKEND forces a backend and rejects unknown names", async () => {
    process.env.HERON_BACKEND = "cpu";
    try {
      expect((await selectBackend()).name).toBe("cpu");
      expect(tf.getBackend()).toBe("cpu");
      process.env.HERON_BACKEND = "tpu";
      await expect(selectBackend()).rejects.toThrow(/unknown backend "tpu"/);
      process.env.HERON_BACKEND = "tensorflow-gpu";
      await expect(selectBackend()).rejects.toThrow(/tensorflow-gpu was requested but could not be loaded/);
    } finally {
      delete process.env.HERON_BACKEND;
    }
    expect((await selectBackend({ force: "wasm" })).name).toBe("wasm");
  });
});

describe("wasm gradient kernels match the cpu backend (relative error ≤ 1e-4)", () => {
  let x: tf.Tensor4D;
  let dy: tf.Tensor4D;
  beforeAll(async () => {
    await selectBackend({ force: "wasm" });
    x = rand([4, 9, 9, 3], 1) as tf.Tensor4D;
    dy = rand([4, 9, 9, 5], 2) as tf.Tensor4D;
  });

  it.each([["same"], ["valid"], [1]] as const)("Conv2DBackpropFilter pad %s", async (pad) => {
    const dyShape = pad === "valid" ? [4, 7, 7, 5] : [4, 9, 9, 5];
    const g = rand(dyShape, 3);
    const { cpu, wasm } = await onBoth(() => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, pad), g)))(rand([3, 3, 3, 5], 4)));
    expect(relErr(wasm[0]!, cpu[0]!)).toBeLessThan(1e-4);
  });

  it("Conv2DBackpropFilter with stride 2", async () => {
    const { cpu, wasm } = await onBoth(() => tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 2, "same"))))(rand([3, 3, 3, 5], 4)));
    expect(relErr(wasm[0]!, cpu[0]!)).toBeLessThan(1e-4);
  });

  it("transposed matMul and MaxPoolGrad overrides", async () => {
    const a = rand([33, 17], 5);
    const b = rand([33, 9], 6);
    const { cpu, wasm } = await onBoth(() => [
      tf.matMul(a, b, true, false),
      tf.matMul(b, a, true, false),
      tf.matMul(tf.transpose(a), tf.transpose(b), false, true),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, "valid"), rand([4, 4, 4, 5], 7))))(rand([4, 9, 9, 5], 8)),
    ]);
    cpu.forEach((c, i) => expect(relErr(wasm[i]!, c)).toBeLessThan(1e-4));
  });

  it("MaxPoolGrad stays right when allocating its output grows the wasm memory", async () => {
    await selectBackend({ force: "wasm" });
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    // an input as large as the whole heap: its gradient's allocation must grow the memory again
    const c = Math.ceil(heap() / 4 / (2 * 16 * 16)) + 1;
    const before = heap();
    const t = tf.fill([2, 16, 16, c], 1);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, "valid")))(t);
    expect(heap()).toBeGreaterThan(before);
    // all-equal windows: the gradient is 1 at each window's first element, 0 elsewhere (never NaN)
    const sum = tf.sum(grad).dataSync()[0];
    expect(sum).toBe(2 * 8 * 8 * c);
    expect(tf.any(tf.isNaN(grad)).dataSync()[0]).toBe(0);
    tf.dispose([t, grad]);
  });

  // 3 input channels take the GEMM filter gradient, 12 the large-kernel conv (conv-ops.ts)
  it.each([[3], [12]])("the fast conv3x3+ReLU gradient equals tf's own gradient (%i input channels)", async (c) => {
    const x = rand([4, 9, 9, c], 11) as tf.Tensor4D;
    const w = rand([3, 3, c, 5], 9) as tf.Tensor4D;
    const bias = rand([5], 10) as tf.Tensor1D;
    const f = (fast: boolean) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.mul(
          fast
            ? conv3x3ReluFast(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D)
            : tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, "same"), bb)),
          dy,
        ),
      );
    const grads = (fast: boolean) => {
      const [gx, gw, gb] = tf.grads(f(fast))([x, w, bias]);
      return [gx!, gw!, gb!];
    };
    const fast = await onBoth(() => grads(true));
    const ref = await onBoth(() => grads(false));
    for (let i = 0; i < 3; i++) {
      expect(relErr(fast.wasm[i]!, ref.cpu[i]!)).toBeLessThan(1e-4);
      expect(relErr(fast.cpu[i]!, ref.cpu[i]!)).toBeLessThan(1e-4);
    }
  });
});
