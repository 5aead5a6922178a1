import { AppError, GroupBySchema, IdSchema, MetricKeySchema, runGroupNames, StepSchema } from "@heron/core";
import { z } from "zod";

import type { Services } from "./index";

/** Bounds of one request: runs × cells is at most 500 × 2,000 = 1,000,000 values to fold. */
export const GROUPED_MAX_RUNS = 500;
export const GROUPED_MAX_POINTS = 2000;
export const GROUPED_MAX_GROUPS = 50;
/** runs per store query: the store's compare takes at most 50 */
const CHUNK = 50;

export const GroupedSeriesQuerySchema = z.object({
  projectId: z.string().min(1, "projectId must not be empty").max(200),
  runIds: z.array(IdSchema).min(1, "runIds must list at least one run").max(GROUPED_MAX_RUNS, `runIds lists at most ${GROUPED_MAX_RUNS} runs`),
  key: MetricKeySchema,
  by: GroupBySchema,
  maxPoints: z.number().int().min(2).max(GROUPED_MAX_POINTS, `maxPoints is at most ${GROUPED_MAX_POINTS}`).default(500),
  stepMin: StepSchema.optional(),
  stepMax: StepSchema.optional(),
  /**
   * another metric of the same runs as the x axis (e.g. `train/epoch`): each cell's x is the
   * mean, over the runs, of that metric's last value at or before the cell's end
   */
  xKey: MetricKeySchema.optional(),
});
export type GroupedSeriesQuery = z.input<typeof GroupedSeriesQuerySchema>;

/** Per cell of the shared grid: how many runs had a value there, and their mean, min, max and (population) std. */
export type GroupSeries = {
  name: string;
  runIds: string[];
  n: number[];
  mean: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  std: (number | null)[];
};
/** `x`: each kept cell's last step, or with `xKey` that metric's value there (ascending) */
export type GroupedSeries = { key: string; by: string; bucketWidth: number; x: number[]; xKey?: string; groups: GroupSeries[] };

/**
 * Grids finer than this many steps per cell are read from raw points, not rollups (the store's
 * finest rollup cell is 64 steps): past RAW_BUDGET points in all, the grid stays at 64 steps so
 * the fold reads rollup rows — 100 runs × 10,000 points is 15,700 rows instead of 1,000,000 points.
 */
const ROLLUP_CELL = 64;
const RAW_BUDGET = 200_000;

/** smallest power of two W with ≤ maxPoints aligned cells over [lo, hi] — the store's bucket rule, so its buckets are our cells */
function gridWidth(lo: number, hi: number, maxPoints: number): number {
  let w = 1;
  while (Math.floor(hi / w) - Math.floor(lo / w) + 1 > maxPoints) w *= 2;
  return w;
}

type Acc = { sum: Float64Array; sq: Float64Array; n: Uint32Array; min: Float64Array; max: Float64Array };
const newAcc = (cells: number): Acc => ({
  sum: new Float64Array(cells),
  sq: new Float64Array(cells),
  n: new Uint32Array(cells),
  min: new Float64Array(cells).fill(Infinity),
  max: new Float64Array(cells).fill(-Infinity),
});

/**
 * One metric key over many runs, folded into groups on a shared step grid: the grid's cells are
 * the aligned buckets [k·W, (k+1)·W) the metrics store uses (W a power of two, ≤ maxPoints
 * cells over the runs' common range), so each run is read from its rollups — never point by
 * point — and every run lands in the same cells. A run contributes its last finite value in a
 * cell (a bucket's `last`, or the exact point); per group and cell the answer holds the mean,
 * min, max and std over the runs that have a value there, and how many did.
 */
// Long because it reads the runs, sizes the grid, folds each chunk of series and shapes the answer in one pass.
export async function groupedSeries(services: Services, raw: GroupedSeriesQuery): Promise<GroupedSeries> {
  const q = GroupedSeriesQuerySchema.parse(raw);
  const project = await services.prisma.project.findFirst({ where: { OR: [{ id: q.projectId }, { name: q.projectId }] }, select: { id: true } });
  if (!project) throw new AppError("NOT_FOUND", `project "${q.projectId}" not found`);
  const ids = [...new Set(q.runIds)];
  const runs = await services.prisma.run.findMany({
    where: { id: { in: ids }, projectId: project.id, deletedAt: null },
    select: { id: true, config: true, tags: true, group: true },
    // groups in the order their first run was created: stable colours from one answer to the next
    orderBy: { createdAt: "asc" },
  });
  const missing = ids.find((id) => !runs.some((r) => r.id === id));
  if (missing) throw new AppError("NOT_FOUND", `run "${missing}" not found in project "${q.projectId}"`);

  const groupOf = new Map<string, number[]>();
  const names: string[] = [];
  const members: string[][] = [];
  for (const r of runs) {
    const idx = runGroupNames(r, q.by).map((name) => {
      let i = names.indexOf(name);
      if (i < 0) {
        if (names.length >= GROUPED_MAX_GROUPS)
          throw new AppError("BAD_REQUEST", `grouping by ${q.by} gives more than ${GROUPED_MAX_GROUPS} groups; choose a key with fewer values or fewer runs`);
        i = names.push(name) - 1;
        members.push([]);
      }
      members[i]!.push(r.id);
      return i;
    });
    groupOf.set(r.id, idx);
  }

  const summaries = await services.metrics.summaries(ids);
  const spans = ids.map((id) => summaries[id]?.[q.key]).filter((s) => s !== undefined);
  const empty = {
    key: q.key,
    by: q.by,
    bucketWidth: 1,
    x: [],
    groups: names.map((name, i) => ({ name, runIds: members[i]!, n: [], mean: [], min: [], max: [], std: [] })),
  };
  if (spans.length === 0) return empty;
  const lo = q.stepMin ?? Math.min(...spans.map((s) => s.firstStep));
  const hi = q.stepMax ?? Math.max(...spans.map((s) => s.maxStep));
  if (hi < lo) return empty;
  const rawPoints = spans.reduce((n, s) => n + s.count, 0);
  const width = Math.max(gridWidth(lo, hi, q.maxPoints), rawPoints > RAW_BUDGET ? ROLLUP_CELL : 1);
  // the store's own bucket rule at this width: ≤ `perRun` buckets over [lo, hi]
  const perRun = Math.min(q.maxPoints, Math.floor(hi / width) - Math.floor(lo / width) + 1);
  const first = Math.floor(lo / width);
  const cells = Math.floor(hi / width) - first + 1;
  const accs = names.map(() => newAcc(cells));
  const runCell = new Float64Array(cells);
  // with xKey: per cell, the sum and count of the runs' x values
  const xSum = q.xKey ? new Float64Array(cells) : null;
  const xN = q.xKey ? new Uint32Array(cells) : null;

  for (let c = 0; c < ids.length; c += CHUNK) {
    const chunk = ids.slice(c, c + CHUNK);
    const query = { runIds: chunk, maxPoints: perRun, stepMin: lo, stepMax: hi };
    const [series, xSeries] = await Promise.all([
      services.metrics.compare({ ...query, key: q.key }),
      q.xKey ? services.metrics.compare({ ...query, key: q.xKey }) : Promise.resolve([]),
    ]);
    for (const s of xSeries) foldX(s, width, first, runCell, xSum!, xN!);
    for (const s of series) {
      // this run's last finite value per cell (NaN = none), then into each of its groups
      runCell.fill(NaN);
      for (let i = 0; i < s.steps.length; i++) {
        const v = s.values[i];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        runCell[Math.floor(s.steps[i]! / width) - first] = v;
      }
      for (const g of groupOf.get(s.runId!) ?? []) {
        const a = accs[g]!;
        for (let k = 0; k < cells; k++) {
          const v = runCell[k]!;
          if (Number.isNaN(v)) continue;
          a.sum[k]! += v;
          a.sq[k]! += v * v;
          a.n[k]!++;
          if (v < a.min[k]!) a.min[k] = v;
          if (v > a.max[k]!) a.max[k] = v;
        }
      }
    }
    // many runs are many store reads: let other requests in between chunks
    await new Promise((r) => setImmediate(r));
  }

  // keep the cells some group has a value in; x is the cell's last step (clipped to the range),
  // or the runs' mean x-metric value there (cells without one are left out), ascending
  let kept: number[] = [];
  for (let k = 0; k < cells; k++) if (accs.some((a) => a.n[k]! > 0) && (!xN || xN[k]! > 0)) kept.push(k);
  if (xSum && xN) kept = kept.sort((a, b) => xSum[a]! / xN[a]! - xSum[b]! / xN[b]! || a - b);
  const x = kept.map((k) => (xSum && xN ? xSum[k]! / xN[k]! : Math.min(hi, (first + k + 1) * width - 1)));
  const groups = names.map((name, g) => {
    const a = accs[g]!;
    const at = <T>(f: (k: number) => T) => kept.map((k) => (a.n[k]! > 0 ? f(k) : null));
    return {
      name,
      runIds: members[g]!,
      n: kept.map((k) => a.n[k]!),
      mean: at((k) => a.sum[k]! / a.n[k]!),
      min: at((k) => a.min[k]!),
      max: at((k) => a.max[k]!),
      std: at((k) => {
        const m = a.sum[k]! / a.n[k]!;
        return Math.sqrt(Math.max(0, a.sq[k]! / a.n[k]! - m * m));
      }),
    };
  });
  return { key: q.key, by: q.by, bucketWidth: width, x, ...(q.xKey ? { xKey: q.xKey } : {}), groups };
}

/** one run's x metric into the cells: its last finite value at or before each cell's end (carried forward) */
function foldX(s: { steps: number[]; values: (number | null)[] }, width: number, first: number, cell: Float64Array, sum: Float64Array, n: Uint32Array) {
  cell.fill(NaN);
  for (let i = 0; i < s.steps.length; i++) {
    const v = s.values[i];
    const k = Math.floor(s.steps[i]! / width) - first;
    if (v !== null && v !== undefined && Number.isFinite(v) && k >= 0 && k < cell.length) cell[k] = v;
  }
  let last = NaN;
  for (let k = 0; k < cell.length; k++) {
    if (!Number.isNaN(cell[k]!)) last = cell[k]!;
    if (!Number.isNaN(last)) {
      sum[k]! += last;
      n[k]!++;
    }
  }
}
