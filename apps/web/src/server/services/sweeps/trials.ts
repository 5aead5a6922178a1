import { type EpochReport, goalScore, type SweepHistoryEntry, type SweepParams, type SweepSpec, SweepSpecSchema, type SweepTrialStatus } from "@heron/core";
import type { MetricsStore } from "@heron/db";

/** A trial's own lifecycle; `running` covers a job that is queued, running, lost or requeued. */
export type TrialStatus = "running" | "completed" | "pruned" | "failed" | "cancelled";
export type SweepStatus = "running" | "paused" | "finished" | "cancelled";

export type TrialRow = {
  id: string;
  index: number;
  params: unknown;
  jobId: string | null;
  runId: string | null;
  status: string;
  reports: unknown;
  metric: number | null;
  pruneReason: string | null;
};

/** The stored spec was parsed at create time; parsing again only restores the types. */
export function storedSweep(spec: unknown): SweepSpec {
  return SweepSpecSchema.parse(spec);
}

export function reportsOf(row: { reports: unknown }): EpochReport[] {
  return Array.isArray(row.reports) ? (row.reports as EpochReport[]) : [];
}

/** What the search sees of a trial: failed and cancelled trials carry no evidence (status failed, no value). */
export function historyEntry(t: TrialRow): SweepHistoryEntry {
  const status: SweepTrialStatus = t.status === "completed" || t.status === "pruned" || t.status === "running" ? t.status : "failed";
  return { params: t.params as SweepParams, value: t.status === "completed" || t.status === "pruned" ? t.metric : null, status };
}

/**
 * The sweep metric at each epoch end of a run: every point of `key` in step order, the n-th
 * being epoch n. Read whole each time (a handful of points per trial) so a resumed attempt that
 * rewound and re-reported an epoch reads the same as one that never stopped.
 */
export async function readEpochReports(metrics: MetricsStore, runId: string, key: string): Promise<EpochReport[]> {
  const s = await metrics.series({ runId, key, maxPoints: 100_000 });
  const out: EpochReport[] = [];
  s.values.forEach((v) => {
    // a NaN (diverged) epoch still counts as one: goalScore ranks it last
    out.push({ epoch: out.length + 1, value: v ?? Number.NaN });
  });
  return out;
}

/** The best completed trial by the sweep's goal (ties: the earlier trial). */
export function bestTrial<T extends { status: string; metric: number | null; index: number }>(
  trials: readonly T[],
  goal: SweepSpec["metric"]["goal"],
): T | null {
  let best: T | null = null;
  for (const t of trials) {
    if (t.status !== "completed" || t.metric === null) continue;
    if (!best || goalScore(t.metric, goal) < goalScore(best.metric as number, goal)) best = t;
  }
  return best;
}
