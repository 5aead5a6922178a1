"use client";
import type { ChartsView } from "../lib/charts-view";
import { ChartToolbar } from "./chart-toolbar";

/**
 * The project charts page's controls: group-by (a tag, the job group or any config key), the
 * band (min–max or ±1 std), the x axis (step, time, or any logged metric) and the shared chart
 * settings; every change goes to the URL through `onChange`.
 */
export function ChartsControls({
  view,
  onChange,
  configKeys,
  metricKeys,
}: {
  view: ChartsView;
  onChange: (v: ChartsView) => void;
  configKeys: string[];
  metricKeys: string[];
}) {
  const set = (patch: Partial<ChartsView>) => onChange({ ...view, ...patch });
  return (
    <>
      <div className="toolbar wrap-row" role="toolbar" aria-label="grouping">
        <label>
          Group by{" "}
          <select aria-label="group by" value={view.by ?? ""} onChange={(e) => set({ by: e.target.value || null })}>
            <option value="">no grouping</option>
            <option value="tag">tag</option>
            <option value="group">job group</option>
            {configKeys.map((k) => (
              <option key={k} value={`config:${k}`}>
                config {k}
              </option>
            ))}
          </select>
        </label>
        {view.by && (
          <label title="the band around each group's mean">
            Band{" "}
            <select aria-label="band" value={view.band} onChange={(e) => set({ band: e.target.value === "std" ? "std" : "minmax" })}>
              <option value="minmax">min – max</option>
              <option value="std">± 1 std</option>
            </select>
          </label>
        )}
        <label
          title={
            view.by
              ? "draw every group against another metric of its runs, e.g. train/epoch (each step's x: the runs' mean value of it)"
              : "draw every panel against another metric of the same run, e.g. train/epoch"
          }
        >
          X metric{" "}
          <select aria-label="x metric" value={view.xKey ?? ""} onChange={(e) => set({ xKey: e.target.value || null })}>
            <option value="">{view.by ? "(step)" : "(the x axis below)"}</option>
            {metricKeys.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ChartToolbar settings={view.settings} onChange={(settings) => set({ settings })} />
    </>
  );
}
