"use client";
import { isSystemKey, type Series } from "@heron/core";
import { useEffect, useMemo, useState } from "react";

import { api, callOptional, errorMessage } from "../lib/api";
import type { StepRange } from "./metric-chart";
import { useLivePoints } from "./use-live-points";

type RunInfo = Awaited<ReturnType<typeof api.run.get.query>>;
type CompareAnswer = { runId?: string; series?: Series } & Partial<Series>;

/** The compare endpoint answers one series per run; accept both `{runId, series}` and `Series & {runId}`. */
function normalize(answer: CompareAnswer[], runIds: string[]): Record<string, Series> {
  const out: Record<string, Series> = {};
  answer.forEach((a, i) => {
    const s = (a.series ?? a) as Series;
    out[a.runId ?? s.runId ?? runIds[i]!] = s;
  });
  return out;
}

/**
 * The compare view's data: the runs, every key's overlaid series (live points for running runs),
 * the distillation table when the runs form a distill group, and zooming that re-queries every
 * run over one step range.
 */
export function useCompareData() {
  // the runs to compare come from the URL (?runs=a,b,c), read once on mount
  const [runIds, setRunIds] = useState<string[] | null>(null);
  const [runs, setRuns] = useState<RunInfo[] | null>(null);
  const [data, setData] = useState<Record<string, Record<string, Series>>>({});
  const [error, setError] = useState<string | null>(null);
  const [distill, setDistill] = useState<unknown>(null);
  const [zoom, setZoom] = useState<Record<string, StepRange>>({});

  useEffect(() => {
    const ids = (new URLSearchParams(window.location.search).get("runs") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    setRunIds([...new Set(ids)].slice(0, 50));
  }, []);

  useEffect(() => {
    if (!runIds?.length) return;
    Promise.all(runIds.map((runId) => api.run.get.query({ runId }))).then(setRuns, (e) => setError(errorMessage(e)));
    // rendered only when the distillation procedure exists and the runs form a distill group
    callOptional("run.compareTable", { runIds }).then(setDistill, () => setDistill(null));
  }, [runIds]);

  const [reloadTick, setReloadTick] = useState(0);
  // running runs stream their new points into the overlay; a reconnect refetches everything
  const runningIds = useMemo(() => (runs ?? []).filter((r) => r.status === "running").map((r) => r.id), [runs]);
  // stored data is read once the running runs' subscriptions are confirmed (see useLivePoints)
  const { live, ready } = useLivePoints(runningIds, { onReconnect: () => setReloadTick((n) => n + 1) });

  const keys = useMemo(() => (runs ? [...new Set(runs.flatMap((r) => r.keys))].filter((k) => !isSystemKey(k)).sort() : []), [runs]);
  useEffect(() => {
    if (!runIds || !keys.length || !ready) return;
    // one batched HTTP request for every key
    Promise.all(
      keys.map((key) => api.metric.compare.query({ runIds, key, maxPoints: 1000 }).then((a) => [key, normalize(a as CompareAnswer[], runIds)] as const)),
    ).then(
      (pairs) => setData(Object.fromEntries(pairs)),
      (e) => setError(errorMessage(e)),
    );
  }, [runIds, keys, reloadTick, ready]);

  // zoom: every run queried over the same step range, so their buckets share boundaries
  const onZoom = (key: string, range: StepRange | null, byRun?: Record<string, StepRange>) => {
    if (!runIds || !runs) return;
    setZoom((z) => {
      const next = { ...z };
      if (range) next[key] = range;
      else delete next[key];
      return next;
    });
    // a time-axis zoom maps the window to each run's own steps (byRun); a run with no point in it keeps the union
    const ids = runs.filter((r) => r.keys.includes(key)).map((r) => r.id);
    const load = range
      ? Promise.all(
          ids.map((runId) => api.metric.series.query({ runId, key, maxPoints: 1000, ...(byRun?.[runId] ?? range) }).then((s) => [runId, s] as const)),
        ).then((pairs) => Object.fromEntries(pairs))
      : api.metric.compare.query({ runIds, key, maxPoints: 1000 }).then((a) => normalize(a as CompareAnswer[], runIds));
    load.then(
      (byRun) => setData((d) => ({ ...d, [key]: byRun })),
      (e) => setError(errorMessage(e)),
    );
  };

  return { runIds, runs, data, error, distill, live, keys, zoom, onZoom };
}
