/**
 * Finite-difference checks (seed 004's discipline) of what the VLM adds to the tape: the
 * patch-token projection, and the masked caption loss through the image-token placement —
 * against float64 plain-JS references that share no code with the implementation.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { selectBackend } from "../backend";
import { formatGradCheck, gradCheck } from "../gradcheck/grad-check";
import { refMaskedLm } from "../gradcheck/reference";
import { IGNORE_INDEX, maskedLmLoss } from "../losses";
import { Rng } from "../rng";
import { placeImageTokens, projectTokens } from "./model";
import { IMAGE } from "./tokenizer";

const rand = (n: number, seed: string, scale = 1) => {
  const r = Rng.derive(7, seed);
  return Float64Array.from({ length: n }, () => scale * r.normal());
};

/** float64 Linear on every token: [n·t, c] · [c, d] + b */
function refProject(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, rows: number, c: number, d: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < d; j++) {
      let s = b[j]!;
      for (let k = 0; k < c; k++) s += x[r * c + k]! * w[k * d + j]!;
      out[r * d + j] = s;
    }
  return out;
}

beforeAll(async () => {
  await selectBackend();
});

describe("VLM gradients against finite differences", () => {
  it("projection of patch tokens into the LM's hidden size", () => {
    const [n, t, c, d] = [2, 3, 4, 5];
    const probe = rand(n * t * d, "probe");
    const r = gradCheck({
      inputs: [
        { name: "tokens", shape: [n, t, c], values: rand(n * t * c, "tok") },
        { name: "proj.weight", shape: [c, d], values: rand(c * d, "w", 0.5) },
        { name: "proj.bias", shape: [d], values: rand(d, "b", 0.5) },
      ],
      // a fixed random probe turns the output into a scalar whose gradient is the probe back-propagated
      fn: ([x, w, b]) => tf.sum(tf.mul(projectTokens(x as tf.Tensor3D, w!, b!), tf.tensor3d(Array.from(probe), [n, t, d]))),
      reference: ([x, w, b]) => refProject(x!, w!, b!, n * t, c, d).reduce((s, v, i) => s + v * probe[i]!, 0),
    });
    console.log(formatGradCheck("projection", r));
    expect(r.precision).toBe("float64-reference");
    expect(r.forwardError).toBeLessThan(1e-5);
    expect(r.maxRelError).toBeLessThan(1e-3);
  });

  it("masked caption loss through projection, image-token placement and an output head", () => {
    // 2 rows of length 7: two <image> placeholders at different offsets, a question word,
    // the answer; labels keep the answer only (−100 elsewhere), as the tokenizer builds them
    const [B, L, T, c, d, V] = [2, 7, 2, 3, 4, 6];
    const ids = Int32Array.from([5, IMAGE, IMAGE, 4, 2, 5, 3, IMAGE, IMAGE, 4, 4, 2, 5, 3]);
    const labels = Int32Array.from([
      ...[IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 5, 3],
      ...[IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 5, 3],
    ]);
    const emb = rand(B * L * d, "emb");
    const head = rand(d * V, "head");
    // a causal running mean stands in for the LM's attention: the answer positions see the image
    const mix = Float64Array.from({ length: L * L }, (_, i) => (i % L <= Math.floor(i / L) ? 1 / (Math.floor(i / L) + 1) : 0));
    const loss = ([x, w, b]: tf.Tensor[]) => {
      const img = projectTokens(x as tf.Tensor3D, w!, b!);
      const seq = placeImageTokens(tf.tensor3d(Array.from(emb), [B, L, d]), ids, img);
      const mixed = tf.matMul(tf.tile(tf.tensor3d(Array.from(mix), [1, L, L]), [B, 1, 1]), seq);
      const logits = tf.reshape(tf.matMul(tf.reshape(mixed, [B * L, d]), tf.tensor2d(Array.from(head), [d, V])), [B, L, V]);
      return maskedLmLoss(logits as tf.Tensor3D, tf.tensor2d(labels, [B, L], "int32"));
    };
    const r = gradCheck({
      inputs: [
        { name: "tokens", shape: [B, T, c], values: rand(B * T * c, "tok") },
        { name: "proj.weight", shape: [c, d], values: rand(c * d, "w", 0.5) },
        { name: "proj.bias", shape: [d], values: rand(d, "b", 0.5) },
      ],
      fn: loss,
      reference: ([x, w, b]) => {
        const img = refProject(x!, w!, b!, B * T, c, d);
        const seq = new Float64Array(B * L * d);
        for (let row = 0; row < B; row++) {
          let t = 0;
          for (let p = 0; p < L; p++) {
            const src = ids[row * L + p] === IMAGE ? img.subarray((row * T + t++) * d) : emb.subarray((row * L + p) * d);
            seq.set(src.subarray(0, d), (row * L + p) * d);
          }
        }
        const logits = new Float64Array(B * L * V);
        for (let row = 0; row < B; row++)
          for (let p = 0; p < L; p++)
            for (let v = 0; v < V; v++) {
              let s = 0;
              for (let k = 0; k < d; k++) {
                let m = 0;
                for (let q = 0; q < L; q++) m += mix[p * L + q]! * seq[(row * L + q) * d + k]!;
                s += m * head[k * V + v]!;
              }
              logits[(row * L + p) * V + v] = s;
            }
        return refMaskedLm(logits, labels, B, L, V);
      },
    });
    console.log(formatGradCheck("masked caption loss", r));
    // the image really reaches the answer's loss (a zero gradient would pass any comparison)
    const g = tf.tidy(
      () =>
        tf
          .grads((x: tf.Tensor) => loss([x, tf.tensor2d(Array.from(rand(c * d, "w", 0.5)), [c, d]), tf.tensor1d(Array.from(rand(d, "b", 0.5)))]))([
            tf.tensor3d(Array.from(rand(B * T * c, "tok")), [B, T, c]),
          ])[0]!
          .abs()
          .max()
          .dataSync()[0]!,
    );
    expect(g).toBeGreaterThan(1e-3);
    expect(r.precision).toBe("float64-reference");
    expect(r.forwardError).toBeLessThan(1e-5);
    expect(r.maxRelError).toBeLessThan(1e-3);
  });

  it("the placement refuses a row whose placeholders do not match the image", () => {
    const emb = tf.zeros([1, 4, 2]) as tf.Tensor3D;
    const img = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    expect(() => placeImageTokens(emb, Int32Array.from([IMAGE, 4, 4, 4]), img)).toThrow(/row 0 holds 1 <image> placeholders, the image has 2 tokens/);
  });
});
