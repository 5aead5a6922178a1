"use client";
import { type GroupBy, lowerBound, type Series } from "@heron/core";
import { type ReactNode, useMemo } from "react";

import { api } from "../lib/api";
import type { ChartLine, ChartSettings } from "../lib/chart-data";
import type { BandMode } from "../lib/charts-view";
import { colorAt } from "../lib/colors";
import type { GroupedSeries } from "../server/services/grouped-series";
import { GroupChart } from "./group-chart";
import { MetricChart } from "./metric-chart";
import { PanelFrame } from "./panel-frame";
import { useQuery } from "./use-query";

/** the runs a panel draws, in selection order (their colour is their position) */
export type PanelRun = { id: string; name: string };

/** ungrouped panels overlay at most this many runs (the store's compare limit) */
export const OVERLAY_MAX_RUNS = 50;

/**
 * A series redrawn against another metric of the same run (e.g. train/epoch): each point's x is
 * the x-metric's value at the last step at or before the point's step; points before the first
 * x value are left out. Sorted by x, as the chart needs.
 */
export function againstMetric(s: Series, x: Series): Series {
  const pairs: [number, number | null, number | null, number | null][] = [];
  for (let i = 0; i < s.steps.length; i++) {
    const j = lowerBound(x.steps, s.steps[i]! + 1) - 1;
    const xv = j >= 0 ? x.values[j] : null;
    if (xv === null || xv === undefined) continue;
    pairs.push([xv, s.values[i] ?? null, s.min?.[i] ?? null, s.max?.[i] ?? null]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return {
    key: s.key,
    bucketed: s.bucketed,
    steps: pairs.map((p) => p[0]),
    values: pairs.map((p) => p[1]),
    ...(s.bucketed ? { min: pairs.map((p) => p[2]), max: pairs.map((p) => p[3]) } : {}),
  };
}

type Overlay = Record<string, Record<string, Series>>;

async function loadOverlay(runIds: string[], keys: string[], xKey: string | null): Promise<Overlay> {
  const wanted = xKey ? [...keys, xKey] : keys;
  const answers = await Promise.all(wanted.map((key) => api.metric.compare.query({ runIds, key, maxPoints: 1000 })));
  const out: Overlay = {};
  wanted.forEach((key, i) => (out[key] = Object.fromEntries(answers[i]!.map((a) => [a.runId, a.series]))));
  return out;
}

/**
 * One chart panel over the chosen runs: its keys (one or several), drawn per run (overlaid,
 * optionally against another metric) or — when the page groups runs — as each group's mean
 * with a band, folded on the server. Fullscreen, PNG and CSV come from PanelFrame; the
 * crosshair follows the page's other charts (`sync`).
 */
// Long because it loads and draws both modes (overlay and grouped) with each mode's CSV.
export function ChartPanel({
  project,
  keys,
  runs,
  by,
  band,
  settings,
  xKey,
  sync,
  tools,
}: {
  project: string;
  keys: string[];
  runs: PanelRun[];
  by: GroupBy | null;
  band: BandMode;
  settings: ChartSettings;
  xKey: string | null;
  sync: string;
  tools?: ReactNode;
}) {
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);
  const title = keys.join(", ");
  const grouped = useQuery(
    () =>
      by
        ? Promise.all(keys.map((key) => api.metric.groupedSeries.query({ projectId: project, runIds, key, by, maxPoints: 1000, ...(xKey ? { xKey } : {}) })))
        : Promise.resolve(null),
    [project, runIds.join(","), keys.join("\n"), by, xKey],
  );
  const overlay = useQuery(
    () => (by ? Promise.resolve(null) : loadOverlay(runIds.slice(0, OVERLAY_MAX_RUNS), keys, xKey)),
    [runIds.join(","), keys.join("\n"), xKey, by],
  );
  const lines = useMemo<ChartLine[]>(() => {
    const data = overlay.data;
    return keys.flatMap((key) =>
      runs.slice(0, OVERLAY_MAX_RUNS).map((r, i) => {
        const s = data?.[key]?.[r.id] ?? null;
        const x = xKey ? data?.[xKey]?.[r.id] : undefined;
        return {
          id: `${r.id}:${key}`,
          label: keys.length > 1 ? `${r.name} · ${key}` : r.name,
          color: colorAt(keys.length > 1 ? i * keys.length + keys.indexOf(key) : i),
          series: s && xKey ? (x ? againstMetric(s, x) : null) : s,
        };
      }),
    );
  }, [overlay.data, keys, runs, xKey]);

  const csv = () => {
    if (by) {
      const rows: (string | number | null)[][] = [["key", "group", xKey ?? "step", "runs", "mean", "min", "max", "std"]];
      for (const g of (grouped.data ?? []) as GroupedSeries[])
        for (const s of g.groups) g.x.forEach((x, i) => rows.push([g.key, s.name, x, s.n[i]!, s.mean[i]!, s.min[i]!, s.max[i]!, s.std[i]!]));
      return rows;
    }
    const rows: (string | number | null)[][] = [["run", "key", xKey ?? "step", "value", "min", "max"]];
    for (const l of lines) {
      const s = l.series;
      if (s) s.steps.forEach((x, i) => rows.push([l.label, s.key, x, s.values[i] ?? null, s.min?.[i] ?? null, s.max?.[i] ?? null]));
    }
    return rows;
  };

  const error = by ? grouped.error : overlay.error;
  return (
    <PanelFrame title={title} csv={csv} tools={tools}>
      {(full) => {
        const height = full ? Math.max(320, Math.floor((window.innerHeight - 140) / (by ? keys.length : 1))) : 240;
        if (error)
          return (
            <p className="error" role="alert">
              {error}
            </p>
          );
        if (by) {
          if (!grouped.data)
            return (
              <div className="chart-placeholder" style={{ height }}>
                Loading…
              </div>
            );
          return (grouped.data as GroupedSeries[]).map((g) => (
            <div key={g.key}>
              {keys.length > 1 && <h4 className="muted small">{g.key}</h4>}
              <GroupChart title={g.key} data={g} band={band} sync={sync} ema={settings.ema} height={height} />
              {g.xKey && <p className="muted small">x axis: {g.xKey}</p>}
            </div>
          ));
        }
        return (
          <>
            {runs.length > OVERLAY_MAX_RUNS && (
              <p className="muted small">
                The first {OVERLAY_MAX_RUNS} of {runs.length} runs are drawn; group the runs to see them all as bands.
              </p>
            )}
            <MetricChart title={title} lines={lines} settings={xKey ? { ...settings, xAxis: "step" } : settings} height={height} sync={sync} framed={false} />
            {xKey && <p className="muted small">x axis: {xKey}</p>}
          </>
        );
      }}
    </PanelFrame>
  );
}
