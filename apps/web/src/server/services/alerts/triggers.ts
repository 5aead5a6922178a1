import type { RunStatus } from "@heron/core";
import type { Models, PrismaClient } from "@heron/db";

import type { AlertEvent, AlertLevel } from "./schemas";

type AlertRule = Models.AlertRuleModel;

/** which rule events a run status announces (a failed job ends its run crashed) */
export const STATUS_EVENTS: Partial<Record<RunStatus, AlertEvent[]>> = {
  finished: ["run.finished"],
  crashed: ["run.failed", "run.crashed"],
  aborted: ["run.failed", "run.aborted"],
  stale: ["run.stale"],
};
export const STATUS_LEVEL: Partial<Record<RunStatus, AlertLevel>> = { finished: "info", crashed: "error", aborted: "warn", stale: "warn" };

export type LivePoint = { key: string; step: number; value: number | null };

/** the first point of `points` that trips a metric rule, or null */
export function metricTrip(rule: Pick<AlertRule, "event" | "metricKey" | "threshold">, points: LivePoint[]): { point: LivePoint; text: string } | null {
  for (const p of points) {
    if (p.key !== rule.metricKey) continue;
    // live points carry non-finite values (NaN, ±Infinity) as null
    if (rule.event === "metric.nan" && p.value === null) return { point: p, text: `${p.key} is NaN (or infinite) at step ${p.step}` };
    if (p.value === null || rule.threshold === null) continue;
    if (rule.event === "metric.above" && p.value > rule.threshold) return { point: p, text: `${p.key} = ${p.value} > ${rule.threshold} at step ${p.step}` };
    if (rule.event === "metric.below" && p.value < rule.threshold) return { point: p, text: `${p.key} = ${p.value} < ${rule.threshold} at step ${p.step}` };
  }
  return null;
}

const CACHE_MS = 5000;
const MAX_RUNS = 10_000;

/**
 * The enabled metric rules per project, and each live run's project, held in memory so that
 * ingest pays one Map lookup per batch when no project has metric rules. Reloaded every few
 * seconds (rules changed by another server process) and at once after a change here.
 */
export function createMetricRuleCache(prisma: PrismaClient) {
  let byProject = new Map<string, AlertRule[]>();
  let loadedAt = 0;
  let loading: Promise<void> | null = null;
  const runProject = new Map<string, string | null>();

  function refresh(): Promise<void> {
    loading ??= prisma.alertRule
      .findMany({ where: { enabled: true, event: { in: ["metric.above", "metric.below", "metric.nan"] } } })
      .then((rules) => {
        const next = new Map<string, AlertRule[]>();
        for (const r of rules) next.set(r.projectId, [...(next.get(r.projectId) ?? []), r]);
        byProject = next;
        loadedAt = Date.now();
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  return {
    refresh,
    /** after a rule changed here: the next batch sees it */
    invalidate: () => refresh(),
    /** false when no project has metric rules (a stale answer starts a reload for the next batch) */
    mayMatch(): boolean {
      if (Date.now() - loadedAt > CACHE_MS) void refresh().catch(() => undefined);
      return byProject.size > 0;
    },
    /** the rules for a run's points; [] at once (no query) when no project has any */
    async rulesFor(runId: string): Promise<AlertRule[]> {
      if (byProject.size === 0) return [];
      let projectId = runProject.get(runId);
      if (projectId === undefined) {
        projectId = (await prisma.run.findUnique({ where: { id: runId }, select: { projectId: true } }))?.projectId ?? null;
        if (runProject.size >= MAX_RUNS) runProject.clear();
        runProject.set(runId, projectId);
      }
      return projectId ? (byProject.get(projectId) ?? []) : [];
    },
  };
}
