import { type CompareQuery, lowerBound, type Series, type SeriesQuery } from "@heron/core";

import { type Cell, cellsOf, type IndexedCell, mergeCells, SHIFTS, widthOf } from "./cells";
import { concatPoints, decodeChunk, emptyPoints, type Points, slicePoints } from "./codec";
import type { MetricsOps, SeriesRow } from "./ops";

/**
 * Reads. Exact points when the range holds ≤ maxPoints of them; otherwise buckets
 * [k·W, (k+1)·W) clipped to the range, W the smallest power of two giving ≤ maxPoints buckets.
 * Buckets come from the widest rollup level with cells ≤ W (W/cell ∈ {1, 2}, so ≤ 2 rows per
 * bucket), and from raw points only where the range's edges cut a cell. Aligned power-of-two
 * buckets make answers deterministic, zooming in strictly finer (W shrinks with the range),
 * and let compare() overlay runs bucket for bucket.
 */
export async function querySeries(ops: MetricsOps, q: SeriesQuery, meta?: SeriesRow | null, widthOver?: { lo: number; hi: number }): Promise<Series> {
  const m = meta === undefined ? ((await ops.series([q.runId], q.key))[0] ?? null) : meta;
  if (!m) return exactSeries(q.key, emptyPoints());
  const lo = Math.max(q.stepMin ?? m.firstStep, m.firstStep);
  const hi = Math.min(q.stepMax ?? m.lastStep, m.lastStep);
  if (lo > hi) return exactSeries(q.key, emptyPoints());
  const max = q.maxPoints;
  if (m.count <= max) return exactSeries(q.key, await rawPoints(ops, q.runId, q.key, lo, hi));

  // compare() sizes buckets over the shared range, so every run gets the same width
  const w = widthOver ? bucketWidth(widthOver.lo, widthOver.hi, max) : bucketWidth(lo, hi, max);
  let level = -1;
  while (level + 1 < SHIFTS.length && widthOf(level + 1) <= w) level++;
  if (level < m.baseLevel) {
    // buckets narrower than the series' finest rollup: the range spans < maxPoints cells of
    // that level, each holding a handful of points (cells.ts chooseBaseLevel) — read it
    const raw = await rawPoints(ops, q.runId, q.key, lo, hi);
    return raw.steps.length <= max ? exactSeries(q.key, raw) : bucketSeries(q.key, w, cellsOf(raw, Math.log2(w)));
  }
  const r = widthOf(level);
  // cells entirely inside [lo, hi]; at the series' own first/last step nothing lies beyond, so
  // the cell holding it counts as inside
  const c0 = lo <= m.firstStep ? Math.floor(lo / r) : Math.ceil(lo / r);
  const c1 = hi >= m.lastStep ? Math.floor(hi / r) : Math.floor((hi + 1) / r) - 1;
  if (c0 > c1) {
    const raw = await rawPoints(ops, q.runId, q.key, lo, hi);
    return raw.steps.length <= max ? exactSeries(q.key, raw) : bucketSeries(q.key, w, cellsOf(raw, Math.log2(w)));
  }
  const left = c0 * r > lo ? await rawPoints(ops, q.runId, q.key, lo, c0 * r - 1) : emptyPoints();
  const right = (c1 + 1) * r - 1 < hi ? await rawPoints(ops, q.runId, q.key, (c1 + 1) * r, hi) : emptyPoints();
  const cells = await ops.cells(q.runId, q.key, level, c0, c1);
  const total = left.steps.length + right.steps.length + cells.reduce((a, c) => a + c.count, 0);
  if (total <= max) return exactSeries(q.key, await rawPoints(ops, q.runId, q.key, lo, hi));
  const shift = Math.log2(w);
  const ratio = w / r;
  const b = new Buckets(q.key, w);
  for (const c of cellsOf(left, shift)) b.add(c.cell, c);
  for (const c of cells) b.add(Math.floor(c.cell / ratio), c);
  for (const c of cellsOf(right, shift)) b.add(c.cell, c);
  return fillMissingTs(ops, q.runId, b.done());
}

/**
 * Cells written before rollups kept a ts (migration 0002) have lastTs NULL: such a bucket takes
 * the ts of its last point from the chunk holding it. One chunk read per chunk touched — only
 * old data pays, and it stays readable with a time axis. If a point vanished meanwhile (a
 * concurrent rewind between two reads), the answer goes without `ts` (charts fall back to steps).
 */
async function fillMissingTs(ops: MetricsOps, runId: string, s: Series): Promise<Series> {
  const ts = s.ts as (number | null)[] | undefined;
  if (!ts || !ts.includes(null)) return s;
  let p: Points = emptyPoints();
  for (let i = 0; i < ts.length; i++) {
    if (ts[i] !== null) continue;
    const step = s.steps[i]!;
    let j = lowerBound(p.steps, step);
    if (p.steps[j] !== step) {
      const chunks = await ops.chunksIn(runId, s.key, step, step);
      p = chunks.length ? decodeChunk(chunks[0]!.data, chunks[0]!.count) : emptyPoints();
      j = lowerBound(p.steps, step);
    }
    if (p.steps[j] !== step) {
      const { ts: _drop, ...rest } = s;
      return rest;
    }
    ts[i] = p.ts[j]!;
  }
  return s;
}

/**
 * Overlays: every run over the same range, with the bucket width of that shared range (a
 * run covering only part of it still gets the same width), so bucketed runs share bucket
 * boundaries. A run with ≤ maxPoints points in range comes back exact.
 */
export async function compareSeries(ops: MetricsOps, q: CompareQuery): Promise<Series[]> {
  const metas = await ops.series(q.runIds, q.key);
  const byRun = new Map(metas.map((m) => [m.runId, m]));
  const lo = q.stepMin ?? Math.min(...metas.map((m) => m.firstStep));
  const hi = q.stepMax ?? Math.max(...metas.map((m) => m.lastStep));
  const out: Series[] = [];
  for (const runId of q.runIds) {
    const s = await querySeries(ops, { runId, key: q.key, maxPoints: q.maxPoints, stepMin: lo, stepMax: hi }, byRun.get(runId) ?? null, { lo, hi });
    out.push({ ...s, runId });
  }
  return out;
}

/** smallest power of two W with ≤ maxPoints aligned buckets over [lo, hi] */
export function bucketWidth(lo: number, hi: number, maxPoints: number): number {
  let w = 1;
  while (Math.floor(hi / w) - Math.floor(lo / w) + 1 > maxPoints) w *= 2;
  return w;
}

async function rawPoints(ops: MetricsOps, runId: string, key: string, lo: number, hi: number): Promise<Points> {
  const chunks = await ops.chunksIn(runId, key, lo, hi);
  if (chunks.length === 0) return emptyPoints();
  return concatPoints(chunks.map((c) => slicePoints(decodeChunk(c.data, c.count), lo, hi)));
}

const fin = (v: number) => (Number.isFinite(v) ? v : null);

export function exactSeries(key: string, p: Points): Series {
  const n = p.steps.length;
  const values = new Array<number | null>(n);
  for (let i = 0; i < n; i++) values[i] = fin(p.values[i]!);
  return { key, bucketed: false, steps: Array.from(p.steps), values, ts: Array.from(p.ts) };
}

/** folds cells (in step order, `cell` = bucket index) into one entry per bucket */
export function bucketSeries(key: string, width: number, parts: IndexedCell[]): Series {
  const b = new Buckets(key, width);
  for (const c of parts) b.add(c.cell, c);
  return b.done();
}

/**
 * Accumulates cells in step order into buckets, in place (a query folds ~2,000 of them). A
 * bucket's ts is its last point's (see Cell in cells.ts); null only from pre-0002 cells, which
 * fillMissingTs resolves before the answer leaves the store.
 */
class Buckets {
  private readonly out: Series & { min: (number | null)[]; max: (number | null)[]; last: (number | null)[]; counts: number[] };
  private readonly ts: (number | null)[] = [];
  private k = NaN;
  private cur: Cell = { count: 0, min: null, max: null, lastStep: 0, last: null, lastTs: null, lastFiniteStep: null, lastFinite: null };
  constructor(key: string, width: number) {
    this.out = { key, bucketed: true, bucketWidth: width, steps: [], values: [], min: [], max: [], last: [], counts: [], ts: this.ts as number[] };
  }
  add(k: number, c: Cell) {
    if (k !== this.k) {
      this.flush();
      this.k = k;
      this.cur = { ...c };
    } else this.cur = mergeCells(this.cur, c);
  }
  private flush() {
    if (Number.isNaN(this.k)) return;
    const c = this.cur;
    this.out.steps.push(c.lastStep);
    this.out.values.push(c.last);
    this.ts.push(c.lastTs);
    this.out.last.push(c.last);
    this.out.min.push(c.min);
    this.out.max.push(c.max);
    this.out.counts.push(c.count);
  }
  done(): Series {
    this.flush();
    this.k = NaN;
    return this.out;
  }
}
