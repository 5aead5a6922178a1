/**
 * Fast conv-block op for CPU-class backends: conv3x3 (stride 1, "same") + bias + ReLU
 * with a hand-written gradient.
 *
 * Why: on wasm the forward conv runs in XNNPACK, but the gradient kernels do not — wasm's
 * Conv2DBackpropInput and (our shim over) Conv3DBackpropFilterV2 are naive loops
 * (measured 37–107 ms per light-cnn layer at batch 128). Both gradients are rewritten as
 * *forward* convolutions, which XNNPACK runs 3–10× faster:
 *   dx = conv2d(dy', rot180(W) with in/out channels swapped, "same")
 *   dW = conv2d(pad(x) as [C, H+2, W+2, N], dy' as filter [H, W, N, OC], "valid") → [C,3,3,OC]
 *        (the batch becomes the reduction channel: Σ_n,y,x x[n,y+i,x+j,c]·dy'[n,y,x,o])
 * where dy' = dy ⊙ (y > 0) folds the ReLU in. Tests compare it with tf's own gradients.
 * Two cases are cheaper as one plain GEMM (measured at batch 128, 32×32):
 *   - few input channels (the first layer, C=3): the large-kernel conv has only 9·C output
 *     pixels to spread its work over (307 ms); the 9 shifted views of x stacked as
 *     [9·C, N·H·W] times dy' as [N·H·W, OC] take 77 ms. With many channels the stacked
 *     matrix is too big to pay off (128 ch: 1.9 s vs 1.1 s), so it stays a conv there.
 *   - db = Σ dy' over N, H, W: wasm's Sum transposes the reduced axes innermost first
 *     (168 ms for [128,32,32,128]; a row of ones times dy' 138 ms, most of it XNNPACK packing
 *     dy' as GEMM weights); a whole-image average pool (XNNPACK, NHWC) × H·W, then Σ over
 *     the batch, takes 12 ms.
 */
import * as tf from "@tensorflow/tfjs";

export function conv3x3ReluFast(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, needInputGrad = true): tf.Tensor4D {
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const [xi, wi, bi] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
    const y = tf.fused.conv2d({ x: xi, filter: wi, strides: 1, pad: "same", bias: bi, activation: "relu" });
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xs, ws, ys] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
          const g = tf.mul(dy as tf.Tensor4D, tf.step(ys)) as tf.Tensor4D;
          const [n, h, w, c] = xs.shape;
          const oc = ws.shape[3];
          const rows = tf.reshape(g, [n * h * w, oc]) as tf.Tensor2D;
          const db = tf.sum(tf.reshape(tf.mul(tf.avgPool(g, [h, w], 1, "valid"), h * w), [n, oc]), 0);
          // the first layer's input is data: its gradient is never used, skip the conv
          const dx = needInputGrad ? tf.conv2d(g, tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D, 1, "same") : tf.zerosLike(xs);
          const dw = c <= GEMM_FILTER_GRAD_MAX_CHANNELS ? filterGradGemm(xs, rows) : filterGradConv(xs, g);
          return [dx, dw, db];
        }),
    };
  });
  return op(x, w, b);
}

/** up to this many input channels the filter gradient is one GEMM over stacked shifted views */
const GEMM_FILTER_GRAD_MAX_CHANNELS = 8;

const PAD1: Array<[number, number]> = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** dW as conv2d(pad(x) as [C, H+2, W+2, N], dy' as filter [H, W, N, OC], "valid") → [3,3,C,OC] */
function filterGradConv(x: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  const xt = tf.transpose(tf.pad(x, PAD1), [3, 1, 2, 0]) as tf.Tensor4D;
  const gt = tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  return tf.transpose(tf.conv2d(xt, gt, 1, "valid"), [1, 2, 0, 3]);
}

/** dW as [9·C, N·H·W] (x's 9 shifted views, rows in (ky, kx, c) order) × dy' rows [N·H·W, OC] */
function filterGradGemm(x: tf.Tensor4D, rows: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const xt = tf.transpose(tf.pad(x, PAD1), [3, 0, 1, 2]); // [C, N, H+2, W+2]
  const shifted: tf.Tensor[] = [];
  for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) shifted.push(tf.reshape(tf.slice(xt, [0, 0, ky, kx], [c, n, h, w]), [c, n * h * w]));
  return tf.reshape(tf.matMul(tf.concat(shifted, 0) as tf.Tensor2D, rows), [3, 3, c, rows.shape[1]]);
}
