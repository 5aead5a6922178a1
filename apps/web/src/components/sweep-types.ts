import type { JsonValue, SweepParameter } from "@heron/core";

import type { api } from "../lib/api";

export type SweepDetail = Awaited<ReturnType<typeof api.sweep.get.query>>;
export type SweepTrial = SweepDetail["trials"][number];
export type SweepSummary = Awaited<ReturnType<typeof api.sweep.list.query>>[number];

/** Swept parameters in spec order; constants (`{value}`) are left out — they never vary. */
export function sweptParams(detail: SweepDetail): { path: string; p: SweepParameter }[] {
  return Object.entries(detail.sweep.parameters)
    .filter(([, p]) => !("value" in p))
    .map(([path, p]) => ({ path, p }));
}

/** A parameter value as a table cell or axis label shows it. */
export function formatParam(v: JsonValue | undefined): string {
  if (v === undefined) return "—";
  if (typeof v === "number") {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toString();
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * A trial's status as people read it: a trial stays `running` while its job is queued or
 * requeued, so show the job's own state then (queued is not running yet).
 */
export function trialStatusLabel(t: SweepTrial): string {
  if (t.status === "running" && t.jobStatus && t.jobStatus !== "running") return t.jobStatus;
  return t.status;
}

/** Best metric so far after each scored trial (completed trials only, as `best` counts them). */
export function bestSoFar(trials: readonly SweepTrial[], goal: "maximize" | "minimize"): (number | null)[] {
  let best: number | null = null;
  return trials.map((t) => {
    if (t.status === "completed" && t.metric !== null && Number.isFinite(t.metric)) {
      if (best === null || (goal === "maximize" ? t.metric > best : t.metric < best)) best = t.metric;
    }
    return best;
  });
}

/** Whether the page should keep polling: something may still change. */
export function sweepIsLive(d: SweepDetail): boolean {
  return d.status === "running" || d.trials.some((t) => t.status === "running");
}
