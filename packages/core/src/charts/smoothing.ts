/**
 * Chart smoothing, browser-safe and allocation-light (runs on every redraw of a chart).
 * Gaps (null / non-finite) stay gaps and do not reset the average, like TensorBoard.
 */

/**
 * Debiased exponential moving average. `weight` in [0, 1): 0 = raw values, 0.99 = very smooth.
 * Debiasing (dividing by 1 − weight^n) keeps the first points from being pulled towards 0.
 */
export function smoothEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return values.slice();
  const w = Math.min(weight, 0.999);
  const out = new Array<number | null>(values.length);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    n++;
    out[i] = acc / (1 - Math.pow(w, n));
  }
  return out;
}

/** Trailing running average over the last `window` finite values (window ≤ 1 = raw values). */
export function smoothRunningAverage(values: readonly (number | null)[], window: number): (number | null)[] {
  const k = Math.floor(window);
  if (k <= 1) return values.slice();
  const out = new Array<number | null>(values.length);
  const ring: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    ring.push(v);
    sum += v;
    if (ring.length > k) sum -= ring.shift()!;
    out[i] = sum / ring.length;
  }
  return out;
}
