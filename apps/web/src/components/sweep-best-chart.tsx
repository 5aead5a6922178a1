"use client";
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";

import { formatNumber, formatTick } from "../lib/format";
import { bestSoFar, type SweepTrial } from "./sweep-types";

const AXIS = "#8b95a1";
const GRID = "rgba(139,149,161,0.18)";
const COMPLETED = "#2563eb";
const PRUNED = "#f59e0b";
const BEST = "#10b981";

/**
 * The metric of every scored trial by trial index (completed and pruned apart: a pruned
 * trial's value is from an earlier epoch) and the best-so-far line over completed trials.
 */
// Long because uPlot is configured in one object (series, axes, tooltip hooks) built together.
export function SweepBestChart({
  trials,
  metric,
  goal,
  height = 240,
}: {
  trials: SweepTrial[];
  metric: string;
  goal: "maximize" | "minimize";
  height?: number;
}) {
  const root = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cols = useMemo(() => {
    const value = (t: SweepTrial, status: string) => (t.status === status && t.metric !== null && Number.isFinite(t.metric) ? t.metric : null);
    return {
      x: trials.map((t) => t.index),
      completed: trials.map((t) => value(t, "completed")),
      pruned: trials.map((t) => value(t, "pruned")),
      best: bestSoFar(trials, goal),
    };
  }, [trials, goal]);
  const data = useMemo<uPlot.AlignedData>(() => [cols.x, cols.completed, cols.pruned, cols.best], [cols]);
  const scored = cols.completed.filter((v) => v !== null).length + cols.pruned.filter((v) => v !== null).length;

  // one plot for the page's life; new trials only swap its data
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const dots = (stroke: string): uPlot.Series => ({
      stroke,
      fill: stroke,
      width: 0,
      paths: () => null,
      points: { show: true, size: 7, stroke, fill: stroke },
    });
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        legend: { show: false },
        scales: { x: { time: false } },
        series: [
          { label: "trial" },
          { label: "completed", ...dots(COMPLETED) },
          { label: "pruned", ...dots(PRUNED) },
          { label: "best so far", stroke: BEST, width: 2, paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
        ],
        cursor: { points: { size: 6 } },
        axes: [
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { stroke: GRID },
            label: "trial",
            values: (_u, v) => v.map((x) => (Number.isInteger(x) ? String(x) : "")),
          },
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { stroke: GRID },
            size: 56,
            values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? "" : formatTick(v))),
          },
        ],
        hooks: {
          draw: [
            (u2) => {
              // the browser test waits for this: the chart painted its data
              if (root.current) root.current.dataset.painted = String(u2.data[0].length);
            },
          ],
        },
      },
      [[], [], [], []],
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const best = cols.best.at(-1) ?? null;
  return (
    <div ref={root} className="chart" data-plot="best-so-far" data-points={scored}>
      <div className="chart-head">
        <h3>
          {metric} by trial ({goal})
        </h3>
      </div>
      <div ref={box} />
      <div className="chart-legend">
        <span className="legend-item">
          <i style={{ background: COMPLETED }} />
          completed
        </span>
        <span className="legend-item">
          <i style={{ background: PRUNED }} />
          pruned (last epoch reported)
        </span>
        <span className="legend-item">
          <i style={{ background: BEST }} />
          best so far {best !== null && <b>{formatNumber(best)}</b>}
        </span>
      </div>
      {scored === 0 && <p className="muted small">No trial has reported {metric} yet.</p>}
    </div>
  );
}
