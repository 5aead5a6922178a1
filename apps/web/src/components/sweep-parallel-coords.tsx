"use client";
import type { JsonValue, SweepParameter } from "@heron/core";
import { useMemo, useState } from "react";

import { formatNumber, formatTick } from "../lib/format";
import { formatParam, type SweepDetail, type SweepTrial, sweptParams } from "./sweep-types";

const W = 960;
const H = 320;
const PAD = { top: 34, bottom: 30, left: 60, right: 80 };

/** One vertical axis: where a value sits on it (0 = bottom, 1 = top, null = off the axis) and its tick labels. */
type Axis = {
  label: string;
  kind: "linear" | "log" | "category" | "metric";
  pos: (v: JsonValue | undefined) => number | null;
  ticks: { at: number; text: string }[];
};

function rangeAxis(label: string, lo: number, hi: number, log: boolean, kind: Axis["kind"]): Axis {
  const f = (x: number) => (log ? Math.log10(x) : x);
  const a = f(lo);
  const b = f(hi);
  const span = b - a || 1;
  const pos = (v: JsonValue | undefined) =>
    typeof v === "number" && Number.isFinite(v) && (!log || v > 0) ? Math.min(1, Math.max(0, (f(v) - a) / span)) : null;
  const ticks: Axis["ticks"] = [];
  if (log) {
    // decades inside the range, plus both ends
    for (let e = Math.ceil(a); e <= Math.floor(b); e++) ticks.push({ at: (e - a) / span, text: formatTick(10 ** e) });
    if (ticks.length < 2) ticks.push({ at: 0, text: formatTick(lo) }, { at: 1, text: formatTick(hi) });
  } else for (let i = 0; i <= 4; i++) ticks.push({ at: i / 4, text: formatTick(lo + ((hi - lo) * i) / 4) });
  return { label, kind, pos, ticks };
}

function paramAxis(path: string, p: SweepParameter): Axis {
  if ("values" in p) {
    // categorical: the choices evenly spaced in the order the spec lists them
    const keys = p.values.map((v) => JSON.stringify(v));
    const at = (i: number) => (keys.length === 1 ? 0.5 : i / (keys.length - 1));
    return {
      label: path,
      kind: "category",
      pos: (v) => {
        const i = keys.indexOf(JSON.stringify(v));
        return i < 0 ? null : at(i);
      },
      ticks: p.values.map((v, i) => ({ at: at(i), text: formatParam(v) })),
    };
  }
  if ("min" in p) return rangeAxis(path, p.min, p.max, p.distribution === "log_uniform", p.distribution === "log_uniform" ? "log" : "linear");
  return { label: path, kind: "category", pos: () => 0.5, ticks: [{ at: 0.5, text: formatParam((p as { value: JsonValue }).value) }] };
}

/** Colour by how good a trial's metric is among those shown: amber (worst) → blue (best). */
function goodnessColor(g: number): string {
  return `hsl(${Math.round(35 + 185 * g)}, 80%, 50%)`;
}

/**
 * Parallel coordinates: one axis per swept parameter (log axes for log_uniform, evenly spaced
 * choices for categorical ones) and the metric last; one line per trial, coloured by its
 * metric (better = bluer), grey while it has none. Hovering a line shows its trial. Hand-drawn
 * SVG: a few dozen lines need no charting library, and it follows the theme through CSS.
 */
export function SweepParallelCoords({ detail }: { detail: SweepDetail }) {
  const [hover, setHover] = useState<number | null>(null);
  const goal = detail.sweep.metric.goal;
  const { axes, lines } = useMemo(() => {
    const params = sweptParams(detail);
    const metrics = detail.trials.map((t) => t.metric).filter((m): m is number => m !== null && Number.isFinite(m));
    const lo = metrics.length ? Math.min(...metrics) : 0;
    const hi = metrics.length ? Math.max(...metrics) : 1;
    const metricAxis = rangeAxis(detail.sweep.metric.name, lo, hi === lo ? lo + 1 : hi, false, "metric");
    const axes = [...params.map(({ path, p }) => paramAxis(path, p)), metricAxis];
    const lines = detail.trials.map((t: SweepTrial) => {
      const ys = [...params.map(({ path }, i) => axes[i]!.pos(t.params[path] as JsonValue)), metricAxis.pos(t.metric ?? undefined)];
      const m = t.metric;
      const g = m === null || !Number.isFinite(m) || hi === lo ? null : goal === "maximize" ? (m - lo) / (hi - lo) : (hi - m) / (hi - lo);
      return { trial: t, ys, color: g === null ? "var(--muted)" : goodnessColor(g) };
    });
    return { axes, lines };
  }, [detail, goal]);

  const x = (i: number) => PAD.left + (axes.length === 1 ? 0 : (i * (W - PAD.left - PAD.right)) / (axes.length - 1));
  const y = (p: number) => PAD.top + (1 - p) * (H - PAD.top - PAD.bottom);
  const path = (ys: (number | null)[]) => {
    // a gap (no metric yet) breaks the line rather than dropping it to an axis end
    let d = "";
    let pen = false;
    ys.forEach((p, i) => {
      if (p === null) pen = false;
      else {
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(p).toFixed(1)}`;
        pen = true;
      }
    });
    return d;
  };
  const hovered = hover === null ? null : lines.find((l) => l.trial.index === hover);

  return (
    <div className="chart" data-plot="parallel-coordinates" data-axes={axes.length} data-lines={lines.length}>
      <div className="chart-head">
        <h3>Parameters → {detail.sweep.metric.name}</h3>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} className="pcoords" role="img" aria-label={`parallel coordinates of ${lines.length} trials`}>
        {lines.map((l) => (
          <path
            key={l.trial.index}
            d={path(l.ys)}
            className="pc-line"
            data-trial={l.trial.index}
            style={{
              stroke: l.color,
              strokeDasharray: l.trial.status === "pruned" ? "5 4" : undefined,
              strokeWidth: hover === l.trial.index ? 3.5 : 1.6,
              opacity: hover === null || hover === l.trial.index ? 0.85 : 0.2,
            }}
            onMouseEnter={() => setHover(l.trial.index)}
            onMouseLeave={() => setHover(null)}
          >
            <title>{`trial ${l.trial.index} (${l.trial.status}): ${formatNumber(l.trial.metric)}`}</title>
          </path>
        ))}
        {lines.map((l) =>
          // dots too: a trial with one parameter and no metric yet has no segment to draw
          l.ys.map((p, i) => (p === null ? null : <circle key={`${l.trial.index}-${i}`} cx={x(i)} cy={y(p)} r={2.5} style={{ fill: l.color }} />)),
        )}
        {axes.map((a, i) => (
          <g key={a.label + i} className="pc-axis" data-axis={a.label} data-scale={a.kind}>
            <line x1={x(i)} x2={x(i)} y1={y(0)} y2={y(1)} />
            <text x={x(i)} y={PAD.top - 16} textAnchor="middle" className="pc-label">
              {a.label}
              {a.kind === "log" ? " (log)" : ""}
            </text>
            {a.ticks.map((t) => {
              // the last axis (the metric) labels its ticks on the right, clear of the lines arriving from the left
              const side = i === axes.length - 1 ? 1 : -1;
              return (
                <g key={t.text + t.at}>
                  <line x1={x(i) + 4 * side} x2={x(i)} y1={y(t.at)} y2={y(t.at)} />
                  <text x={x(i) + 7 * side} y={y(t.at) + 4} textAnchor={side > 0 ? "start" : "end"} className="pc-tick">
                    {t.text}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <p className="muted small">
        {hovered
          ? `trial ${hovered.trial.index} · ${hovered.trial.status} · ${detail.sweep.metric.name} ${formatNumber(hovered.trial.metric)}`
          : "Each line is a trial; colour by metric (bluer is better), dashed = pruned, grey = no metric yet. Hover a line for its trial."}
      </p>
    </div>
  );
}
