import type { Series } from "@heron/core";

/**
 * Deterministic min/max/last bucketing of exact points (steps ascending). Buckets split the
 * step range [lo, hi] into `maxPoints` equal-width intervals; each non-empty bucket reports
 * its last step/value and the min/max of its finite values, so a spike is never hidden.
 */
export function bucketPoints(key: string, steps: number[], values: number[], maxPoints: number, lo?: number, hi?: number): Series {
  const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
  if (steps.length <= maxPoints) {
    return { key, bucketed: false, steps, values: values.map(finiteOrNull) };
  }
  const first = lo ?? steps[0]!;
  const last = hi ?? steps[steps.length - 1]!;
  const width = Math.max(1, Math.ceil((last - first + 1) / maxPoints));
  const out: Series = { key, bucketed: true, steps: [], values: [], min: [], max: [], last: [] };
  let current = -1;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const v = values[i]!;
    const b = Math.floor((s - first) / width);
    if (b !== current) {
      current = b;
      out.steps.push(s);
      out.values.push(finiteOrNull(v));
      out.min!.push(null);
      out.max!.push(null);
      out.last!.push(finiteOrNull(v));
    }
    const j = out.steps.length - 1;
    out.steps[j] = s;
    out.values[j] = finiteOrNull(v);
    out.last![j] = finiteOrNull(v);
    if (Number.isFinite(v)) {
      if (out.min![j] === null || v < out.min![j]!) out.min![j] = v;
      if (out.max![j] === null || v > out.max![j]!) out.max![j] = v;
    }
  }
  return out;
}
