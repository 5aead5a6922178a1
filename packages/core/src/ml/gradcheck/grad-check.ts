/**
 * Finite-difference gradient checks (autograd is only trusted once it agrees with
 * the definition of the derivative).
 *
 * tfjs's CPU-class backends compute in float32 only, so "float64 where the backend allows"
 * means: the analytic gradient comes from tfjs (float32, the code that trains), and the
 * numeric one from central differences (f(x+h) − f(x−h)) / 2h over a float64 reference
 * implementation of the same function (h = 1e-6, truncation error O(h²) ≈ 1e-12), which
 * also has to agree with the tfjs forward value. Without a reference, the differences are
 * taken on the tfjs function itself in float32 (h = 1e-2 by default) — a weaker check,
 * reported as such.
 *
 * Relative error per element: |analytic − numeric| / max(|analytic|, |numeric|, floor), where
 * floor = 1e-3 · max|numeric| keeps elements whose true gradient is ~0 from dividing by ~0.
 */
import * as tf from "@tensorflow/tfjs";

export type GradInput = {
  name: string;
  shape: number[];
  values: ArrayLike<number>;
  /** differentiate with respect to this input (default true) */
  wrt?: boolean;
  dtype?: "float32" | "int32";
};

export type GradCheckResult = {
  precision: "float64-reference" | "float32-backend";
  /** largest relative error over every checked element */
  maxRelError: number;
  maxAbsError: number;
  /** where maxRelError occurred */
  worst: { input: string; index: number; analytic: number; numeric: number };
  /** |tf value − reference value| / max(1, |reference|) */
  forwardError: number;
  checked: number;
};

export type GradCheckOptions = {
  inputs: GradInput[];
  /** the function under test: tensors (in `inputs` order) → scalar */
  fn: (xs: tf.Tensor[]) => tf.Scalar;
  /** the same function in float64 plain JS */
  reference?: (xs: Float64Array[]) => number;
  eps?: number;
  /** check at most this many elements per input (evenly spread), to keep big inputs fast */
  maxPerInput?: number;
};

export function gradCheck(o: GradCheckOptions): GradCheckResult {
  const ref = o.reference;
  const eps = o.eps ?? (ref ? 1e-6 : 1e-2);
  const wrtIdx = o.inputs.map((inp, i) => (inp.wrt === false ? -1 : i)).filter((i) => i >= 0);
  const makeTensors = (vals: ArrayLike<number>[]) => o.inputs.map((inp, i) => tf.tensor(Array.from(vals[i]!), inp.shape, inp.dtype ?? "float32"));

  // analytic gradients (float32, tfjs)
  const base = o.inputs.map((inp) => Float64Array.from(inp.values));
  let analytic: Float64Array[] = [];
  let value = NaN;
  tf.tidy(() => {
    const ts = makeTensors(base);
    const gfn = tf.valueAndGrads((...wrt: tf.Tensor[]) => {
      const all = ts.map((t, i) => (wrtIdx.includes(i) ? wrt[wrtIdx.indexOf(i)]! : t));
      return o.fn(all);
    });
    const { value: v, grads } = gfn(wrtIdx.map((i) => ts[i]!));
    analytic = grads.map((g) => Float64Array.from(g.dataSync()));
    value = v.dataSync()[0]!;
  });

  const evalAt = (vals: Float64Array[]): number => {
    if (ref) return ref(vals);
    return tf.tidy(() => o.fn(makeTensors(vals)).dataSync()[0]!);
  };
  const refValue = ref ? ref(base) : value;
  const forwardError = Math.abs(value - refValue) / Math.max(1, Math.abs(refValue));

  const numeric: { input: number; index: number; n: number; a: number }[] = [];
  for (const [k, i] of wrtIdx.entries()) {
    const size = base[i]!.length;
    const per = Math.min(size, o.maxPerInput ?? size);
    for (let c = 0; c < per; c++) {
      const j = per === size ? c : Math.floor((c * size) / per);
      const vals = base.map((b) => Float64Array.from(b));
      const x0 = vals[i]![j]!;
      vals[i]![j] = x0 + eps;
      const fp = evalAt(vals);
      vals[i]![j] = x0 - eps;
      const fm = evalAt(vals);
      numeric.push({ input: i, index: j, n: (fp - fm) / (2 * eps), a: analytic[k]![j]! });
    }
  }
  const floor = 1e-3 * Math.max(1e-12, ...numeric.map((e) => Math.abs(e.n)));
  let maxRel = 0;
  let maxAbs = 0;
  let worst = { input: "", index: -1, analytic: 0, numeric: 0 };
  for (const e of numeric) {
    const abs = Math.abs(e.a - e.n);
    const rel = abs / Math.max(Math.abs(e.a), Math.abs(e.n), floor);
    maxAbs = Math.max(maxAbs, abs);
    if (rel >= maxRel) {
      maxRel = rel;
      worst = { input: o.inputs[e.input]!.name, index: e.index, analytic: e.a, numeric: e.n };
    }
  }
  return { precision: ref ? "float64-reference" : "float32-backend", maxRelError: maxRel, maxAbsError: maxAbs, worst, forwardError, checked: numeric.length };
}

/** One line for test output and logs. */
export function formatGradCheck(name: string, r: GradCheckResult): string {
  return `${name}: ${r.checked} elements, max rel error ${r.maxRelError.toExponential(2)} (abs ${r.maxAbsError.toExponential(2)}; worst ${r.worst.input}[${r.worst.index}] analytic ${r.worst.analytic.toPrecision(6)} vs numeric ${r.worst.numeric.toPrecision(6)}), forward error ${r.forwardError.toExponential(2)}, ${r.precision}`;
}
