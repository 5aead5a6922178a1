import type { MetricPoint, Series } from "@heron/core";

import { bucketWidth } from "./query";

/** mulberry32: a small seeded PRNG so property tests replay exactly */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the store should hold: first write per (key, step) wins. */
export class BruteForce {
  readonly series = new Map<string, Map<number, { value: number; ts: number }>>();
  write(points: MetricPoint[]) {
    for (const p of points) {
      let m = this.series.get(p.key);
      if (!m) this.series.set(p.key, (m = new Map<number, { value: number; ts: number }>()));
      if (!m.has(p.step)) m.set(p.step, { value: p.value, ts: p.ts });
    }
  }
  rewind(step: number) {
    for (const [key, m] of this.series) {
      for (const s of [...m.keys()]) if (s > step) m.delete(s);
      if (m.size === 0) this.series.delete(key);
    }
  }
  sorted(key: string) {
    return [...(this.series.get(key) ?? new Map<number, { value: number; ts: number }>()).entries()].sort((a, b) => a[0] - b[0]);
  }
  /** the documented semantics, computed the slow obvious way */
  query(key: string, maxPoints: number, stepMin?: number, stepMax?: number): Series {
    const all = this.sorted(key);
    const fin = (v: number) => (Number.isFinite(v) ? v : null);
    if (all.length === 0) return { key, bucketed: false, steps: [], values: [], ts: [] };
    const lo = Math.max(stepMin ?? all[0]![0], all[0]![0]);
    const hi = Math.min(stepMax ?? all.at(-1)![0], all.at(-1)![0]);
    const pts = all.filter(([s]) => s >= lo && s <= hi);
    if (pts.length <= maxPoints)
      return { key, bucketed: false, steps: pts.map((p) => p[0]), values: pts.map((p) => fin(p[1].value)), ts: pts.map((p) => p[1].ts) };
    const w = bucketWidth(lo, hi, maxPoints);
    const out = {
      key,
      bucketed: true,
      bucketWidth: w,
      steps: [] as number[],
      values: [] as (number | null)[],
      min: [] as (number | null)[],
      max: [] as (number | null)[],
      last: [] as (number | null)[],
      counts: [] as number[],
      ts: [] as number[],
    };
    let k = -1;
    for (const [s, { value, ts }] of pts) {
      const b = Math.floor(s / w);
      if (b !== k) {
        k = b;
        out.steps.push(s);
        out.values.push(null);
        out.last.push(null);
        out.min.push(null);
        out.max.push(null);
        out.counts.push(0);
        out.ts.push(0);
      }
      const j = out.steps.length - 1;
      out.steps[j] = s;
      out.ts[j] = ts; // a bucket's time is its last point's
      out.values[j] = out.last[j] = fin(value);
      out.counts[j]!++;
      if (Number.isFinite(value)) {
        if (out.min[j] === null || value < out.min[j]!) out.min[j] = value;
        if (out.max[j] === null || value > out.max[j]!) out.max[j] = value;
      }
    }
    return out;
  }
}

/** random points for one run: dense, sparse and bursty series, ~1% NaN/±Inf, rare spikes */
export function randomPoints(r: () => number, keys: string[], perKey: number): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const key of keys) {
    const gap = [1, 1, 3, 17, 250][Math.floor(r() * 5)]!;
    let step = Math.floor(r() * 1000);
    for (let i = 0; i < perKey; i++) {
      step += 1 + Math.floor(r() * gap);
      const u = r();
      const value = u < 0.004 ? NaN : u < 0.007 ? Infinity : u < 0.01 ? -Infinity : u < 0.012 ? 1e6 * (r() - 0.5) : Math.sin(step / 100) + r();
      out.push({ key, step, value, ts: 1.7e12 + step * 10 + r() });
    }
  }
  return out;
}

export function shuffle<T>(r: () => number, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
