import type { Series } from "@heron/core";

import { cellsOf } from "./cells";
import { emptyPoints } from "./codec";
import { bucketSeries, bucketWidth, exactSeries } from "./query";

/**
 * The store's bucketing applied to points already in memory (live points on a dashboard,
 * tests): exact when ≤ maxPoints, else aligned power-of-two buckets over [lo, hi] with
 * min/max/last — the same answer the store gives for the same points. With `ts` (one per
 * point) the answer carries times like the store's (each bucket its last point's); without,
 * it has none.
 */
export function bucketPoints(key: string, steps: number[], values: number[], maxPoints: number, lo?: number, hi?: number, ts?: number[]): Series {
  const order = steps.map((_, i) => i).sort((a, b) => steps[a]! - steps[b]! || a - b);
  const p = emptyPoints(steps.length);
  let n = 0;
  for (const i of order) {
    const s = steps[i]!;
    if ((lo !== undefined && s < lo) || (hi !== undefined && s > hi) || (n > 0 && p.steps[n - 1] === s)) continue;
    p.steps[n] = s;
    p.ts[n] = ts?.[i] ?? 0;
    p.values[n++] = values[i]!;
  }
  const pts = { steps: p.steps.subarray(0, n), values: p.values.subarray(0, n), ts: p.ts.subarray(0, n) };
  const w = n <= maxPoints ? 0 : bucketWidth(pts.steps[0]!, pts.steps[n - 1]!, maxPoints);
  const out = w === 0 ? exactSeries(key, pts) : bucketSeries(key, w, cellsOf(pts, Math.log2(w)));
  if (ts) return out;
  const { ts: _ts, ...timeless } = out;
  return timeless;
}
