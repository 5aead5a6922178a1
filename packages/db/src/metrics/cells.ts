import type { Points } from "./codec";

/**
 * Rollup levels: level L groups points by floor(step / 2^SHIFTS[L]). Widths go 64, 256, 1024 …
 * 2^24 steps (×4 per level): a query for W-wide buckets (W a power of two) reads cells of the
 * widest level ≤ W, so at most 2 cells per bucket — ≤ 2,000 rows for 1,000 buckets whatever the
 * series length. Every write touches one cell per level per key, so levels cost ingest; above
 * 2^24 (16.7M steps) a bucket combines top cells instead — only non-empty cells exist, so even
 * a 10^9-step run reads ≤ 60 of them.
 */
export const SHIFTS = [6, 8, 10, 12, 14, 16, 18, 20, 22, 24] as const;
export const TOP_LEVEL = SHIFTS.length - 1;
export const widthOf = (level: number) => 2 ** SHIFTS[level]!;

/**
 * Summary of a set of points. min/max and lastFinite ignore NaN/±Inf; `last` is the value of the
 * point with the highest step, null when that value is not finite (drawn as a gap), and `lastTs`
 * that point's wall-clock ms.
 *
 * Why the last point's ts (not the first's, nor the max): a bucket is drawn at (lastStep, last),
 * so its time is that same real point's — the curve against time passes through the same
 * points as against steps, a one-point bucket is exactly its point, and the live tail
 * (logged after lastStep) continues from it. Points are logged in step order, so last-point
 * times rise from bucket to bucket whenever the run's ts rise with step (the same guarantee
 * exact points have). And it merges by the rule `last` already uses (the higher lastStep
 * wins), so it is as deterministic: any write order gives the same cell. null only on rows
 * written before the column existed (query.ts fills those from the chunks).
 */
export type Cell = {
  count: number;
  min: number | null;
  max: number | null;
  lastStep: number;
  last: number | null;
  lastTs: number | null;
  lastFiniteStep: number | null;
  lastFinite: number | null;
};
export type IndexedCell = Cell & { cell: number };

const fin = (v: number) => (Number.isFinite(v) ? v : null);

/** Summarizes points[from, to) (sorted by step, non-empty range). */
export function summarize(p: Points, from: number, to: number): Cell {
  let min = Infinity;
  let max = -Infinity;
  let lastFiniteStep: number | null = null;
  let lastFinite: number | null = null;
  for (let i = from; i < to; i++) {
    const v = p.values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    lastFiniteStep = p.steps[i]!;
    lastFinite = v;
  }
  const has = lastFiniteStep !== null;
  return {
    count: to - from,
    min: has ? min : null,
    max: has ? max : null,
    lastStep: p.steps[to - 1]!,
    last: fin(p.values[to - 1]!),
    lastTs: p.ts[to - 1]!,
    lastFiniteStep,
    lastFinite,
  };
}

/** Groups sorted points into cells of 2^shift steps. */
export function cellsOf(p: Points, shift: number): IndexedCell[] {
  const width = 2 ** shift;
  const out: IndexedCell[] = [];
  const n = p.steps.length;
  let i = 0;
  while (i < n) {
    const cell = Math.floor(p.steps[i]! / width);
    const end = (cell + 1) * width;
    let j = i + 1;
    while (j < n && p.steps[j]! < end) j++;
    out.push({ cell, ...summarize(p, i, j) });
    i = j;
  }
  return out;
}

const minN = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxN = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Summary of the union of two disjoint point sets (the same rule as the SQL upserts). */
export function mergeCells(a: Cell, b: Cell): Cell {
  const bLast = b.lastStep > a.lastStep;
  const bFinite = b.lastFiniteStep !== null && (a.lastFiniteStep === null || b.lastFiniteStep > a.lastFiniteStep);
  return {
    count: a.count + b.count,
    min: minN(a.min, b.min),
    max: maxN(a.max, b.max),
    lastStep: bLast ? b.lastStep : a.lastStep,
    last: bLast ? b.last : a.last,
    lastTs: bLast ? b.lastTs : a.lastTs,
    lastFiniteStep: bFinite ? b.lastFiniteStep : a.lastFiniteStep,
    lastFinite: bFinite ? b.lastFinite : a.lastFinite,
  };
}

/**
 * The finest level worth keeping for a series, from its first batch: cells at least 4 step
 * gaps wide, so each holds several points. Finer cells would hold ~1 point each — a rollup row
 * per point (measured: a series logged every 128 steps ingested 8× slower with them). Queries
 * that would need a finer level read raw points instead; there are few of them in such a range.
 */
export function chooseBaseLevel(steps: Float64Array): number {
  const n = steps.length;
  if (n < 2) return 0;
  const gap = (steps[n - 1]! - steps[0]!) / (n - 1);
  let level = 0;
  while (level < TOP_LEVEL && widthOf(level) < 4 * gap) level++;
  return level;
}
