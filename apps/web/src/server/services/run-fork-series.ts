import type { Series, SeriesQuery } from "@heron/core";

import type { Services } from "./index";

/** forks of forks are followed this far back (lineage depth's own limit) */
const MAX_CHAIN = 10;

type Segment = { runId: string; lo: number; hi: number };

/**
 * A run's series, with a fork's history: a run forked from a parent at step S shows the
 * parent's points up to S (read from the parent now, not copied at fork time — a parent
 * rewound or deleted later shows what it holds then) and its own after S; a fork of a fork
 * repeats that up the chain. System metrics (`sys/…`, stepped in seconds) are the run's own.
 * Runs that are no fork read exactly as before.
 */
export async function forkAwareSeries(services: Services, q: SeriesQuery): Promise<Series> {
  const segments = q.key.startsWith("sys/") ? [] : await forkChain(services, q.runId);
  if (segments.length <= 1) return services.metrics.series(q);
  const lo = q.stepMin ?? 0;
  const hi = q.stepMax ?? Number.MAX_SAFE_INTEGER;
  const parts: Series[] = [];
  for (const s of segments) {
    const a = Math.max(lo, s.lo);
    const b = Math.min(hi, s.hi);
    if (a <= b) parts.push(await services.metrics.series({ ...q, runId: s.runId, stepMin: a, stepMax: b }));
  }
  return joinSeries(q.key, parts, q.maxPoints);
}

/** a run's metric keys; a fork's include its ancestors' (their history shows in its charts), system keys only its own */
export async function forkAwareKeys(services: Services, runId: string): Promise<string[]> {
  const own = await services.metrics.keys(runId);
  const segments = await forkChain(services, runId);
  if (segments.length <= 1) return own;
  const keys = new Set(own);
  for (const s of segments) if (s.runId !== runId) for (const k of await services.metrics.keys(s.runId)) if (!k.startsWith("sys/")) keys.add(k);
  return [...keys].sort();
}

/** the run's fork ancestry as step ranges, oldest first: [root ≤ S1], [S1 < child ≤ S2], …, [Sn < run] */
async function forkChain(services: Services, runId: string): Promise<Segment[]> {
  const chain: { runId: string; forkStep: number | null }[] = [];
  const seen = new Set<string>();
  let id: string | null = runId;
  while (id && !seen.has(id) && chain.length <= MAX_CHAIN) {
    seen.add(id);
    const r: { forkedFromRunId: string | null; forkStep: number | null } | null = await services.prisma.run.findUnique({
      where: { id },
      select: { forkedFromRunId: true, forkStep: true },
    });
    if (!r) break;
    chain.push({ runId: id, forkStep: r.forkedFromRunId ? r.forkStep : null });
    id = r.forkedFromRunId && r.forkStep !== null ? r.forkedFromRunId : null;
  }
  // chain: run, parent, grandparent …; the run's own points start after its own fork step
  const segments: Segment[] = [];
  let hi = Number.MAX_SAFE_INTEGER;
  for (const link of chain) {
    const lo = link.forkStep === null ? 0 : link.forkStep + 1;
    if (lo <= hi) segments.unshift({ runId: link.runId, lo, hi });
    if (link.forkStep === null) break;
    hi = Math.min(hi, link.forkStep);
  }
  return segments;
}

/** smallest power of two W with ≤ maxPoints aligned buckets over [lo, hi] (the store's rule) */
function bucketWidth(lo: number, hi: number, maxPoints: number): number {
  let w = 1;
  while (Math.floor(hi / w) - Math.floor(lo / w) + 1 > maxPoints) w *= 2;
  return w;
}

/**
 * Joins the segments' answers (disjoint step ranges, in order) into one. Exact when all are
 * exact and fit maxPoints. Otherwise re-bucketed at the width the store would choose for the
 * whole range: each part's buckets are aligned powers of two no wider than that (its range is
 * smaller), so each falls inside exactly one bucket of the joined answer and min/max/last/count
 * combine exactly.
 */
export function joinSeries(key: string, parts: Series[], maxPoints: number): Series {
  const nonEmpty = parts.filter((p) => p.steps.length > 0);
  const total = nonEmpty.reduce((n, p) => n + p.steps.length, 0);
  const withTs = nonEmpty.every((p) => p.ts);
  if (nonEmpty.every((p) => !p.bucketed) && total <= maxPoints) {
    return {
      key,
      bucketed: false,
      steps: nonEmpty.flatMap((p) => p.steps),
      values: nonEmpty.flatMap((p) => p.values),
      ...(withTs ? { ts: nonEmpty.flatMap((p) => p.ts!) } : {}),
    };
  }
  const lo = nonEmpty[0]!.steps[0]!;
  const hi = nonEmpty.at(-1)!.steps.at(-1)!;
  // never finer than a part's own buckets (whose first step is a bucket's last, not its start)
  const w = Math.max(bucketWidth(lo, hi, maxPoints), ...nonEmpty.map((p) => p.bucketWidth ?? 1));
  const out = {
    steps: [] as number[],
    last: [] as (number | null)[],
    min: [] as (number | null)[],
    max: [] as (number | null)[],
    counts: [] as number[],
    ts: [] as number[],
  };
  let cell = -1;
  for (const p of nonEmpty) {
    for (let i = 0; i < p.steps.length; i++) {
      const step = p.steps[i]!;
      const v = p.bucketed ? (p.last?.[i] ?? p.values[i]!) : p.values[i]!;
      const mn = p.bucketed ? (p.min?.[i] ?? null) : v;
      const mx = p.bucketed ? (p.max?.[i] ?? null) : v;
      const n = p.bucketed ? (p.counts?.[i] ?? 1) : 1;
      const c = Math.floor(step / w);
      if (c !== cell) {
        cell = c;
        out.steps.push(step);
        out.last.push(v);
        out.min.push(mn);
        out.max.push(mx);
        out.counts.push(n);
        out.ts.push(p.ts?.[i] ?? 0);
        continue;
      }
      const j = out.steps.length - 1;
      out.steps[j] = step;
      out.last[j] = v;
      out.min[j] = minOf(out.min[j]!, mn);
      out.max[j] = maxOf(out.max[j]!, mx);
      out.counts[j]! += n;
      out.ts[j] = p.ts?.[i] ?? 0;
    }
  }
  return {
    key,
    bucketed: true,
    steps: out.steps,
    values: out.last,
    last: out.last,
    min: out.min,
    max: out.max,
    counts: out.counts,
    bucketWidth: w,
    ...(withTs ? { ts: out.ts } : {}),
  };
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
