"use client";
import type { JsonValue } from "@heron/core";
import { useMemo, useState } from "react";

import { formatNumber, formatTick } from "../lib/format";

const W = 960;
const H = 320;
const PAD = { top: 34, bottom: 30, left: 60, right: 80 };

/** One vertical axis: where a value sits on it (0 = bottom, 1 = top, null = off the axis) and its tick labels. */
export type Axis = {
  label: string;
  kind: "linear" | "log" | "category" | "metric";
  pos: (v: JsonValue | undefined) => number | null;
  ticks: { at: number; text: string }[];
};

/** One polyline: a value per parameter axis (in axis order) and the metric (null: none yet). */
export type PcLine = { id: string; label: string; values: (JsonValue | undefined)[]; metric: number | null; dashed?: boolean; status?: string };

const label = (v: JsonValue | undefined) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

export function rangeAxis(name: string, lo: number, hi: number, log: boolean, kind: Axis["kind"]): Axis {
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
  return { label: name, kind, pos, ticks };
}

/** categorical: the choices evenly spaced in the order given */
export function categoryAxis(name: string, values: readonly JsonValue[], format: (v: JsonValue) => string = label): Axis {
  const keys = values.map((v) => JSON.stringify(v));
  const at = (i: number) => (keys.length === 1 ? 0.5 : i / (keys.length - 1));
  return {
    label: name,
    kind: "category",
    pos: (v) => {
      const i = keys.indexOf(JSON.stringify(v));
      return i < 0 ? null : at(i);
    },
    ticks: values.map((v, i) => ({ at: at(i), text: format(v) })),
  };
}

/**
 * An axis for values seen in data (config values of runs): numbers on a linear axis (log when
 * all are positive and span two decades or more), anything else as sorted categories.
 */
export function inferAxis(name: string, seen: readonly (JsonValue | undefined)[]): Axis {
  const present = seen.filter((v): v is JsonValue => v !== undefined && v !== null);
  const nums = present.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (nums.length && nums.length === present.length) {
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 100;
    return rangeAxis(name, lo, hi === lo ? lo + 1 : hi, log, log ? "log" : "linear");
  }
  const distinct = [...new Map(present.map((v) => [JSON.stringify(v), v])).values()];
  distinct.sort((a, b) => label(a).localeCompare(label(b), undefined, { numeric: true }));
  return categoryAxis(name, distinct);
}

/** Colour by how good a line's metric is among those shown: amber (worst) → blue (best). */
function goodnessColor(g: number): string {
  return `hsl(${Math.round(35 + 185 * g)}, 80%, 50%)`;
}

/**
 * Parallel coordinates: one axis per parameter and the metric last; one line per trial or run,
 * coloured by its metric (better = bluer), grey while it has none; hovering a line names it.
 * Hand-drawn SVG: a few hundred lines need no charting library, and it follows the theme through
 * CSS. Used by the sweep page (trials) and the project charts page (runs' config values).
 */
// Long because it is one SVG's markup: lines, their dots, axes with ticks, and the hover caption.
export function ParallelCoords({
  title,
  axes: paramAxes,
  lines: input,
  metricName,
  goal,
  caption,
}: {
  title: string;
  axes: Axis[];
  lines: PcLine[];
  metricName: string;
  goal: "maximize" | "minimize";
  caption: string;
}) {
  const [hover, setHover] = useState<string | null>(null);
  const { axes, lines } = useMemo(() => {
    const metrics = input.map((t) => t.metric).filter((m): m is number => m !== null && Number.isFinite(m));
    const lo = metrics.length ? Math.min(...metrics) : 0;
    const hi = metrics.length ? Math.max(...metrics) : 1;
    const metricAxis = rangeAxis(metricName, lo, hi === lo ? lo + 1 : hi, false, "metric");
    const axes = [...paramAxes, metricAxis];
    const lines = input.map((t) => {
      const ys = [...paramAxes.map((a, i) => a.pos(t.values[i])), metricAxis.pos(t.metric ?? undefined)];
      const m = t.metric;
      const g = m === null || !Number.isFinite(m) || hi === lo ? null : goal === "maximize" ? (m - lo) / (hi - lo) : (hi - m) / (hi - lo);
      return { line: t, ys, color: g === null ? "var(--muted)" : goodnessColor(g) };
    });
    return { axes, lines };
  }, [input, paramAxes, metricName, goal]);

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
  const hovered = hover === null ? null : lines.find((l) => l.line.id === hover);

  return (
    <div className="chart" data-plot="parallel-coordinates" data-axes={axes.length} data-lines={lines.length}>
      <div className="chart-head">
        <h3>{title}</h3>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} className="pcoords" role="img" aria-label={`parallel coordinates of ${lines.length} lines`}>
        {lines.map((l) => (
          <path
            key={l.line.id}
            d={path(l.ys)}
            className="pc-line"
            data-line={l.line.id}
            style={{
              stroke: l.color,
              strokeDasharray: l.line.dashed ? "5 4" : undefined,
              strokeWidth: hover === l.line.id ? 3.5 : 1.6,
              opacity: hover === null || hover === l.line.id ? 0.85 : 0.2,
            }}
            onMouseEnter={() => setHover(l.line.id)}
            onMouseLeave={() => setHover(null)}
          >
            <title>{`${l.line.label}${l.line.status ? ` (${l.line.status})` : ""}: ${formatNumber(l.line.metric)}`}</title>
          </path>
        ))}
        {lines.map((l) =>
          // dots too: a line with one parameter and no metric yet has no segment to draw
          l.ys.map((p, i) => (p === null ? null : <circle key={`${l.line.id}-${i}`} cx={x(i)} cy={y(p)} r={2.5} style={{ fill: l.color }} />)),
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
          ? `${hovered.line.label}${hovered.line.status ? ` · ${hovered.line.status}` : ""} · ${metricName} ${formatNumber(hovered.line.metric)}`
          : caption}
      </p>
    </div>
  );
}
