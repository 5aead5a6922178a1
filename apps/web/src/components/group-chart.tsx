"use client";
import { smoothEma } from "@heron/core";
import { useEffect, useRef } from "react";
import uPlot from "uplot";

import type { BandMode } from "../lib/charts-view";
import { colorAt, withAlpha } from "../lib/colors";
import { formatTickWithUnit, formatWithUnit } from "../lib/units";
import type { GroupedSeries } from "../server/services/grouped-series";
import { SYNC_FILTERS } from "./metric-chart";

const AXIS = "#8b95a1";
const GRID = "rgba(139,149,161,0.18)";

/** uPlot's table for grouped series: x, then per group mean, band low, band high (mean ± std or min / max). */
export function groupTable(g: GroupedSeries, band: BandMode, ema = 0): uPlot.AlignedData {
  const cols: (number | null)[][] = [];
  for (const s of g.groups) {
    // the page's EMA smooths each group's mean line; the band stays the raw spread of the runs
    cols.push(ema > 0 ? smoothEma(s.mean, ema) : s.mean);
    if (band === "std") {
      cols.push(s.mean.map((m, i) => (m === null ? null : m - (s.std[i] ?? 0))));
      cols.push(s.mean.map((m, i) => (m === null ? null : m + (s.std[i] ?? 0))));
    } else cols.push(s.min, s.max);
  }
  return [g.x, ...cols] as uPlot.AlignedData;
}

/**
 * One metric over grouped runs: each group's mean as a line with a band (min–max or ±1 std)
 * filled between two invisible series (uPlot `bands`). The cursor is synced with every chart
 * of the page that shares `sync`. The data was aligned and folded on the server.
 */
// Long because uPlot is configured in one object (series, bands, axes, legend and paint hooks).
export function GroupChart({
  title,
  data,
  band,
  sync,
  ema = 0,
  height = 240,
}: {
  title: string;
  data: GroupedSeries;
  band: BandMode;
  sync: string;
  ema?: number;
  height?: number;
}) {
  const root = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const legend = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const groups = data.groups;
    const xLabel = data.xKey ?? "step";
    const series: uPlot.Series[] = [{ label: xLabel }];
    const bands: uPlot.Band[] = [];
    groups.forEach((g, i) => {
      const color = colorAt(i);
      const base = series.length;
      series.push(
        {
          label: g.name,
          stroke: color,
          width: 1.8,
          spanGaps: true,
          points: { show: (u: uPlot, sid: number) => Array.from(u.data[sid]!).filter((v) => v != null).length === 1 },
        },
        { label: `${g.name} low`, stroke: "transparent", width: 0, spanGaps: true, points: { show: false } },
        { label: `${g.name} high`, stroke: "transparent", width: 0, spanGaps: true, points: { show: false } },
      );
      bands.push({ series: [base + 2, base + 1], fill: withAlpha(color, 0.16) });
    });
    const writeLegend = (u: uPlot) => {
      const idx = u.cursor.idx;
      const out = legend.current;
      if (!out) return;
      const at = idx !== null && idx !== undefined;
      const xv = at ? u.data[0][idx] : null;
      const head = at ? `<span class="legend-x">${xLabel.replace(/[<>&]/g, "")} ${xv != null && data.xKey ? formatWithUnit(xLabel, xv) : xv}</span>` : "";
      out.innerHTML =
        head +
        groups
          .map((g, i) => {
            const m = at ? g.mean[idx] : null;
            const n = at ? g.n[idx] : g.runIds.length;
            const lo = at ? u.data[2 + i * 3]![idx] : null;
            const hi = at ? u.data[3 + i * 3]![idx] : null;
            const range = lo != null && hi != null ? ` <span class="muted">[${formatWithUnit(title, lo)}, ${formatWithUnit(title, hi)}]</span>` : "";
            const name = g.name.replace(/[<>&]/g, "");
            return `<span class="legend-item"><i style="background:${colorAt(i)}"></i>${name} <span class="muted">(${n} runs)</span>${m != null ? ` <b>${formatWithUnit(title, m)}</b>${range}` : ""}</span>`;
          })
          .join("");
    };
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        legend: { show: false },
        series,
        bands,
        scales: { x: { time: false } },
        cursor: { sync: { key: sync, filters: SYNC_FILTERS }, drag: { x: true, y: false }, points: { size: 5 } },
        axes: [
          { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID } },
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { stroke: GRID },
            size: 56,
            values: (_u, vals) => vals.map((v) => (v == null ? "" : formatTickWithUnit(title, v))),
          },
        ],
        hooks: {
          setCursor: [writeLegend],
          draw: [
            (u2) => {
              // tests and the benchmark wait for these: painted, with how many bands
              const r = root.current;
              if (!r) return;
              r.dataset.painted = String(u2.data[0].length);
              r.dataset.xLast = String(u2.data[0][u2.data[0].length - 1] ?? "");
              r.dataset.bands = String(bands.length);
            },
          ],
        },
      },
      groupTable(data, band, ema),
      el,
    );
    writeLegend(u);
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: root.current?.dataset.fullscreen ? Math.max(height, window.innerHeight - 160) : height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [data, band, sync, title, height, ema]);
  return (
    <div ref={root} data-chart={title} data-grouped={data.groups.length} data-band={band}>
      <div ref={box} />
      <div ref={legend} className="chart-legend" aria-live="off" />
    </div>
  );
}
