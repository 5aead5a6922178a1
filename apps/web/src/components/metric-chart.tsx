"use client";
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";

import {
  type ChartLine,
  type ChartSettings,
  type PreparedLine,
  prepareLine,
  type StepRange,
  stepRangesForWindow,
  timeAxisAvailable,
  unionRange,
} from "../lib/chart-data";
import { withAlpha } from "../lib/colors";
import { formatNumber } from "../lib/format";
import { padSingleX, singlePointIndex } from "../lib/single-point";
import { formatTickWithUnit, formatWithUnit } from "../lib/units";

export type { StepRange };
type Props = {
  title: string;
  lines: ChartLine[];
  settings: ChartSettings;
  /**
   * Drag-select asks for finer data over that step range; null resets. On a time axis the
   * window maps to steps per line (`byLine`, by line id; `range` is their union).
   */
  onZoom?: (range: StepRange | null, byLine?: Record<string, StepRange>) => void;
  zoomed?: boolean;
  height?: number;
  /** charts sharing this key move one crosshair together (uPlot cursor.sync); a drag-select zooms only its own chart */
  sync?: string;
  /** right-click on the plot (step axis): a step action such as "fork from here", with the step under the cursor */
  onStepContext?: (step: number) => void;
  /**
   * false inside a frame that already draws the box and the title (PanelFrame on the project
   * charts page): no second border, no second heading — only the badges, when there are any
   */
  framed?: boolean;
};

/**
 * `sync` shares the crosshair only. uPlot also publishes mousedown/mouseup (and dblclick) to
 * the charts of a sync key, which would replay a drag-select on every chart of the page: each
 * would fire its setSelect hook and re-query its own key (onZoom), so one drag zoomed them all
 * and the run page's zoom state kept only the last chart's window. Filtered on both sides so a
 * chart neither sends nor takes a drag, whoever shares its key.
 */
const crosshairOnly = (type: string) => type !== "mousedown" && type !== "mouseup" && type !== "dblclick";
export const SYNC_FILTERS: uPlot.Cursor.Sync.Filters = { pub: crosshairOnly, sub: crosshairOnly };

const AXIS = "#8b95a1";
const GRID = "rgba(139,149,161,0.18)";

/** Per line: value [, smoothed] [, lo, hi] — the column layout of the uPlot table. */
type Layout = { color: string; label: string; value: number; smooth: number | null; lo: number | null; hi: number | null }[];

function buildTable(prepared: (PreparedLine | null)[], hasSmooth: boolean, hasBand: boolean): { data: uPlot.AlignedData; layout: Layout } {
  const tables: uPlot.AlignedData[] = [];
  const layout: Layout = [];
  let col = 1;
  for (const p of prepared) {
    if (!p) continue;
    const cols: (number | null)[][] = [p.y];
    const entry = { color: "", label: "", value: col++, smooth: null as number | null, lo: null as number | null, hi: null as number | null };
    if (hasSmooth) {
      cols.push(p.smooth ?? p.y);
      entry.smooth = col++;
    }
    if (hasBand) {
      cols.push(p.lo ?? p.y, p.hi ?? p.y);
      entry.lo = col++;
      entry.hi = col++;
    }
    tables.push([p.x, ...cols] as uPlot.AlignedData);
    layout.push(entry);
  }
  if (tables.length === 0) return { data: [[]], layout };
  // several runs have different x values: align them (null keeps NaN gaps, missing x stays undefined and is bridged)
  const data =
    tables.length === 1
      ? tables[0]!
      : uPlot.join(
          tables,
          tables.map((t) => t.slice(1).map(() => 1)),
        );
  return { data, layout };
}

/** Writes the value beside each single-point series' marker; records them on the chart element for tests. */
function drawSinglePoints(u: uPlot, entries: { value: number; color: string }[], el: HTMLElement) {
  const labels: string[] = [];
  const ctx = u.ctx;
  for (const e of entries) {
    const col = u.data[e.value];
    const idx = col ? singlePointIndex(col) : null;
    if (idx === null) continue;
    const x = u.data[0][idx];
    const v = col![idx]!;
    if (x === null || x === undefined) continue;
    // the chart root carries its metric key: the marker reads in the key's unit (MiB, %)
    const text = formatWithUnit(el.dataset.chart ?? "", v);
    labels.push(text);
    ctx.save();
    ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.fillStyle = e.color;
    ctx.textBaseline = "bottom";
    const px = u.valToPos(x, "x", true);
    const py = u.valToPos(v, "y", true);
    // left of the marker when it sits in the right half, so the label stays inside the plot
    const right = px > u.bbox.left + u.bbox.width / 2;
    ctx.textAlign = right ? "right" : "left";
    ctx.fillText(text, px + (right ? -8 : 8) * devicePixelRatio, py - 6 * devicePixelRatio);
    ctx.restore();
  }
  if (labels.length) el.dataset.singlePoint = labels.join(",");
  else delete el.dataset.singlePoint;
}

function sameLines(a: ChartLine[], b: ChartLine[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (l, i) =>
        l.series === b[i]!.series &&
        l.live === b[i]!.live &&
        l.color === b[i]!.color &&
        l.label === b[i]!.label &&
        l.id === b[i]!.id &&
        l.startTs === b[i]!.startTs,
    )
  );
}

/**
 * One uPlot chart for one metric key and one or more runs: exact points, or bucket lines with
 * their min/max band so spikes stay visible; optional smoothing drawn over a faint raw line;
 * hover values in a legend of our own (direct DOM writes, no React render per mouse move).
 */
// Long because uPlot is configured in one object (scales, series, axes, legend and zoom hooks)
// that must be built together when the chart's shape changes.
export function MetricChart({ title, lines, settings, onZoom, zoomed, height = 220, sync, onStepContext, framed = true }: Props) {
  const root = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const legend = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const onZoomRef = useRef(onZoom);
  onZoomRef.current = onZoom;

  // parents rebuild `lines` on every render; keep the previous array while its contents are the
  // same, so a live tick on one key doesn't re-prepare every chart on the page
  const linesRef = useRef(lines);
  if (!sameLines(linesRef.current, lines)) linesRef.current = lines;
  lines = linesRef.current;
  const loaded = lines.filter((l) => l.series);
  const timeOk = timeAxisAvailable(lines);
  const effective: ChartSettings = timeOk ? settings : { ...settings, xAxis: "step" };
  const hasSmooth = effective.ema > 0 || effective.avgWindow > 1;
  const hasBand = lines.some((l) => l.series?.bucketed);
  const prepared = useMemo(() => lines.map((l) => prepareLine(l, effective)), [lines, effective.ema, effective.avgWindow, effective.xAxis, effective.log]); // eslint-disable-line react-hooks/exhaustive-deps -- the settings fields that change a prepared line, not the settings object
  const { data, layout } = useMemo(() => buildTable(prepared, hasSmooth, hasBand), [prepared, hasSmooth, hasBand]);
  const shape = `${loaded.map((l) => l.id + l.color).join(",")}|${hasSmooth}|${hasBand}|${effective.xAxis}|${effective.log}`;
  const points = prepared.reduce((n, p) => n + (p?.x.length ?? 0), 0);
  // the uPlot hooks outlive renders: a zoom must map against the data drawn now
  const preparedRef = useRef({ prepared, lines });
  preparedRef.current = { prepared, lines };

  // (re)create the plot when the set of series changes; otherwise just swap data
  useEffect(() => {
    const el = box.current;
    if (!el || loaded.length === 0) return;
    const colored = layout.map((e, i) => ({ ...e, color: loaded[i]!.color, label: loaded[i]!.label }));
    const series: uPlot.Series[] = [{ label: effective.xAxis === "step" ? "step" : "time" }];
    for (const e of colored) {
      series.push({
        label: e.label,
        stroke: hasSmooth ? withAlpha(e.color, 0.28) : e.color,
        width: hasSmooth ? 1 : 1.5,
        spanGaps: false,
        // a lone value has no segment to draw: show it as a marker (drawSinglePoints labels it)
        points: { show: (u2: uPlot, sid: number) => singlePointIndex(u2.data[sid]!) !== null, size: 9, fill: e.color, stroke: e.color },
      });
      if (e.smooth !== null) series.push({ label: `${e.label} (smoothed)`, stroke: e.color, width: 1.6, points: { show: false } });
      if (e.lo !== null)
        series.push(
          { label: "min", stroke: "transparent", width: 0, points: { show: false } },
          { label: "max", stroke: "transparent", width: 0, points: { show: false } },
        );
    }
    const bands: uPlot.Band[] = colored
      .filter((e) => e.lo !== null)
      .map((e) => ({ series: [e.hi!, e.lo!] as [number, number], fill: withAlpha(e.color, 0.14) }));
    const writeLegend = (u: uPlot) => {
      const idx = u.cursor.idx;
      const out = legend.current;
      if (!out) return;
      const x = idx !== null && idx !== undefined ? u.data[0][idx] : null;
      const head =
        x === null || x === undefined
          ? ""
          : effective.xAxis === "wall"
            ? new Date(x * 1000).toLocaleString()
            : effective.xAxis === "relative"
              ? `${formatNumber(x)} s`
              : `step ${x}`;
      const rows = colored.map((e) => {
        const v = idx !== null && idx !== undefined ? u.data[e.smooth ?? e.value]![idx] : null;
        const lo = e.lo !== null && idx !== null && idx !== undefined ? u.data[e.lo]![idx] : null;
        const hi = e.hi !== null && idx !== null && idx !== undefined ? u.data[e.hi]![idx] : null;
        const range =
          lo !== null && lo !== undefined && hi !== null && hi !== undefined && lo !== hi
            ? ` <span class="muted">[${formatWithUnit(title, lo)}, ${formatWithUnit(title, hi)}]</span>`
            : "";
        const label = e.label.replace(/[<>&]/g, "");
        return `<span class="legend-item"><i style="background:${e.color}"></i>${label}${v !== null && v !== undefined ? ` <b>${formatWithUnit(title, v)}</b>${range}` : ""}</span>`;
      });
      out.innerHTML = (head ? `<span class="legend-x">${head}</span>` : "") + rows.join("");
    };
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height,
        legend: { show: false },
        scales: {
          x: { time: effective.xAxis === "wall", range: (_u, min, max) => padSingleX(min, max) as uPlot.Range.MinMax },
          y: effective.log ? { distr: 3 } : {},
        },
        series,
        bands,
        cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 5 }, ...(sync ? { sync: { key: sync, filters: SYNC_FILTERS } } : {}) },
        axes: [
          { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID } },
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { stroke: GRID },
            size: 56,
            values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? "" : formatTickWithUnit(title, v))),
          },
        ],
        hooks: {
          setCursor: [writeLegend],
          draw: [
            (u2) => {
              // the benchmark and the browser tests wait for this: the chart has painted its data
              // (and read the x range drawn: steps or seconds, per the x axis)
              const el2 = root.current;
              if (!el2) return;
              const xs = u2.data[0];
              el2.dataset.painted = String(xs.length);
              el2.dataset.xFirst = String(xs[0] ?? "");
              el2.dataset.xLast = String(xs[xs.length - 1] ?? "");
              drawSinglePoints(u2, colored, el2);
            },
          ],
          setSelect: [
            (u2) => {
              const sel = u2.select;
              if (sel.width < 4) return;
              const a = u2.posToVal(sel.left, "x");
              const b = u2.posToVal(sel.left + sel.width, "x");
              u2.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              const zoom = onZoomRef.current;
              if (!zoom) return void u2.setScale("x", { min: a, max: b }); // nothing to re-query: zoom the drawn data
              if (effective.xAxis === "step") return zoom({ stepMin: Math.max(0, Math.floor(a)), stepMax: Math.max(0, Math.ceil(b)) });
              // time axes: the window maps to the steps of the buckets it covers (see stepRangesForWindow)
              const cur = preparedRef.current;
              const per = stepRangesForWindow(cur.prepared, a, b);
              const range = unionRange(per);
              const byLine: Record<string, StepRange> = {};
              per.forEach((r, i) => r && (byLine[cur.lines[i]!.id] = r));
              if (range) zoom(range, byLine);
            },
          ],
        },
      },
      data,
      el,
    );
    plot.current = u;
    writeLegend(u);
    const ro = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    const rootEl = root.current;
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
      if (rootEl) delete rootEl.dataset.painted;
    };
  }, [shape, height, sync]); // eslint-disable-line react-hooks/exhaustive-deps -- the plot is rebuilt only when its shape changes; new data goes through setData below

  useEffect(() => {
    const u = plot.current;
    if (u && u.series.length === data.length) u.setData(data);
  }, [data]);

  const empty = loaded.length > 0 && points === 0;
  const bucketed = lines.some((l) => l.series?.bucketed);
  const stepOnly = !timeOk && settings.xAxis !== "step";
  const resettable = !!(zoomed && onZoom);
  return (
    <div
      ref={root}
      className={framed ? "chart" : "chart-bare"}
      data-chart={title}
      data-points={points}
      data-loading={loaded.length < lines.length ? "1" : undefined}
    >
      {(framed || bucketed || stepOnly || resettable) && (
        <div className="chart-head">
          {framed && <h3 title={title}>{title}</h3>}
          {bucketed && (
            <span className="badge" title="each point is a bucket: its last value, with the min–max band of all points in it">
              bucketed
            </span>
          )}
          {stepOnly && (
            <span className="badge" title="this answer carries no per-point time (an older server): drawn against steps">
              step axis
            </span>
          )}
          {resettable && (
            <button className="link" onClick={() => onZoom?.(null)}>
              Reset zoom
            </button>
          )}
        </div>
      )}
      {loaded.length === 0 ? (
        <div className="chart-placeholder" style={{ height }}>
          Loading…
        </div>
      ) : empty ? (
        <div className="chart-placeholder" style={{ height }}>
          No points in this range.
        </div>
      ) : null}
      <div
        ref={box}
        style={{ display: loaded.length === 0 || empty ? "none" : undefined }}
        title={onStepContext && effective.xAxis === "step" ? "right-click: fork from the step under the cursor" : undefined}
        onContextMenu={(e) => {
          // only on a step axis: on a time axis the x under the cursor is no step
          const u = plot.current;
          const idx = u?.cursor.idx;
          if (!onStepContext || effective.xAxis !== "step" || !u || idx === null || idx === undefined) return;
          const step = u.data[0][idx];
          if (step === undefined || step === null) return;
          e.preventDefault();
          onStepContext(step);
        }}
      />
      <div ref={legend} className="chart-legend" aria-live="off" />
    </div>
  );
}
