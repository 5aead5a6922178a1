/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not ship but our models
 * need: without `Conv2DBackpropFilter` no conv net can train on wasm at all.
 *
 * The shim reuses wasm's own `Conv3DBackpropFilterV2` (native code) by viewing the NHWC
 * input as NDHWC with depth 1 — a TensorInfo is just (dataId, shape), so no copy is made.
 * Explicit numeric paddings (which a depth-1 Conv3D cannot express) and strides > 1 fall
 * back to a plain JS loop: correct, slower, and unused by the reference models (stride 1, "same").
 */
import * as tf from "@tensorflow/tfjs";

type Info = tf.TensorInfo;
type WasmLike = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  readSync(dataId: object): Float32Array;
  typedArrayFromHeap(info: Info): Float32Array;
};

let registered = false;

export function registerWasmGradKernels(): void {
  if (registered) return;
  registered = true;
  wrapTransposedMatMul("BatchMatMul");
  wrapTransposedMatMul("_FusedMatMul");
  wrapMaxPoolGrad();
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  const conv3dFilter = tf.getKernel("Conv3DBackpropFilterV2", "wasm");
  if (!conv3dFilter) throw new Error("wasm backend has no Conv3DBackpropFilterV2 kernel to build Conv2DBackpropFilter from");
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: Info; dy: Info };
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: "same" | "valid" | number | number[][];
        dataFormat?: "NHWC" | "NCHW";
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat === "NCHW") throw new Error("Conv2DBackpropFilter (wasm shim): only NHWC is supported");
      const [sh, sw] = typeof a.strides === "number" ? [a.strides, a.strides] : a.strides;
      const [fh, fw, inC, outC] = a.filterShape;
      // The Conv3D view is only used for stride 1: with stride 2 wasm's Conv3DBackpropFilterV2
      // disagrees with the cpu backend (found by backend.test.ts), the JS loop does not.
      if ((a.pad === "same" || a.pad === "valid") && sh === 1 && sw === 1) {
        const [n, h, w, c] = x.shape as [number, number, number, number];
        const [, oh, ow, oc] = dy.shape as [number, number, number, number];
        const out = conv3dFilter.kernelFunc({
          inputs: {
            x: { dataId: x.dataId, shape: [n, 1, h, w, c], dtype: x.dtype },
            dy: { dataId: dy.dataId, shape: [n, 1, oh, ow, oc], dtype: dy.dtype },
          },
          backend,
          attrs: { strides: [1, sh, sw], pad: a.pad, filterShape: [1, fh, fw, inC, outC] },
        }) as Info;
        return { dataId: out.dataId, shape: [fh, fw, inC, outC], dtype: out.dtype };
      }
      return jsConv2dBackpropFilter(backend as WasmLike, x, dy, a.filterShape, [sh, sw], a.pad);
    },
  });
}

/**
 * wasm's matMul with transposeA/transposeB leaves XNNPACK for a slow loop: measured here
 * [128,1024]ᵀ·[128,256] 69 ms vs 2.4 ms for an explicit Transpose + plain matMul. Every
 * backward pass of a dense layer hits those flags, so materialise the transpose first.
 */
function wrapTransposedMatMul(kernelName: string): void {
  const orig = tf.getKernel(kernelName, "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!orig || !transpose) return;
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({
    ...orig,
    kernelFunc: (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args);
      const inputs = { ...args.inputs } as Record<string, Info>;
      const temps: Info[] = [];
      for (const [key, flag] of [
        ["a", attrs.transposeA],
        ["b", attrs.transposeB],
      ] as const) {
        const t = inputs[key];
        if (!flag || !t) continue;
        const r = t.shape.length;
        const perm = [...Array(r).keys()];
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
        const tt = transpose.kernelFunc({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as Info;
        temps.push(tt);
        inputs[key] = tt;
      }
      const out = orig.kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      for (const t of temps) (args.backend as WasmLike).disposeData(t.dataId);
      return out;
    },
  });
}

/** Reference loop for paddings the Conv3D view can't express. */
function jsConv2dBackpropFilter(
  backend: WasmLike,
  x: Info,
  dy: Info,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: "same" | "valid" | number | number[][],
): Info {
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad as number);
  const xs = backend.readSync(x.dataId) as Float32Array;
  const dys = backend.readSync(dy.dataId) as Float32Array;
  const out = backend.makeOutput(filterShape, "float32");
  const dw = backend.typedArrayFromHeap(out);
  dw.fill(0);
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: OC } = info;
  const { top, left } = info.padInfo;
  const [fh, fw] = filterShape;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const dyOff = ((b * OH + oy) * OW + ox) * OC;
        for (let ky = 0; ky < fh; ky++) {
          const iy = oy * strides[0] - top + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < fw; kx++) {
            const ix = ox * strides[1] - left + kx;
            if (ix < 0 || ix >= W) continue;
            const xOff = ((b * H + iy) * W + ix) * C;
            for (let c = 0; c < C; c++) {
              const xv = xs[xOff + c]!;
              const wOff = ((ky * fw + kx) * C + c) * OC;
              for (let o = 0; o < OC; o++) dw[wOff + o]! += xv * dys[dyOff + o]!;
            }
          }
        }
      }
  return out;
}

/**
 * wasm's MaxPoolGrad is a generic loop (42 ms for [128,32,32,16] here). For the reference
 * models' 2×2 / stride 2 / valid pooling a direct JS pass over the wasm heap is ~10× faster.
 * Like tf's cpu kernel, the gradient goes to the first maximum of each window.
 */
function wrapMaxPoolGrad(): void {
  const orig = tf.getKernel("MaxPoolGrad", "wasm");
  if (!orig) return;
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel({
    ...orig,
    kernelFunc: (args) => {
      const { dy, input } = args.inputs as { dy: Info; input: Info };
      const a = args.attrs as unknown as { filterSize: number | number[]; strides: number | number[]; pad: unknown; dimRoundingMode?: string };
      const two = (v: number | number[]) => (typeof v === "number" ? v === 2 : v.length === 2 && v[0] === 2 && v[1] === 2);
      if (!two(a.filterSize) || !two(a.strides) || a.pad !== "valid" || input.shape.length !== 4) return orig.kernelFunc(args);
      const backend = args.backend as WasmLike;
      const [n, h, w, c] = input.shape as [number, number, number, number];
      const [, oh, ow] = dy.shape as [number, number, number, number];
      // allocate first: makeOutput may grow the wasm memory, which detaches every heap view taken before it
      const out = backend.makeOutput([n, h, w, c], "float32");
      const xs = backend.typedArrayFromHeap(input);
      const dys = backend.typedArrayFromHeap(dy);
      const dx = backend.typedArrayFromHeap(out);
      dx.fill(0);
      const row = w * c;
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            const base = ((b * h + 2 * oy) * w + 2 * ox) * c;
            const dyBase = ((b * oh + oy) * ow + ox) * c;
            for (let ch = 0; ch < c; ch++) {
              const p0 = base + ch;
              let best = p0;
              let bv = xs[p0]!;
              const p1 = p0 + c;
              const p2 = p0 + row;
              const p3 = p2 + c;
              if (xs[p1]! > bv) {
                best = p1;
                bv = xs[p1]!;
              }
              if (xs[p2]! > bv) {
                best = p2;
                bv = xs[p2]!;
              }
              if (xs[p3]! > bv) best = p3;
              dx[best] = dys[dyBase + ch]!;
            }
          }
      return out;
    },
  });
}
