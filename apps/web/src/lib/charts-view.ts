import { type GroupBy, GroupBySchema } from "@heron/core";

import { type ChartSettings, DEFAULT_SETTINGS } from "./chart-data";
import { settingsFromParams, settingsToParams } from "./view-params";

export type BandMode = "minmax" | "std";

/**
 * The project charts page's view, all of it in the URL so a link opens the same charts:
 * `runs` (the selected runs, comma-separated; none = the newest runs), `by` (group-by: tag,
 * group, config:<key>), `band` (minmax | std), `panels` (one panel per `;`, its keys per `,`,
 * each URI-encoded), `hidden` (keys left out of the default panels), `xkey` (a metric to draw
 * against, e.g. train/epoch), `pc` (the parallel-coordinates metric), and the shared chart
 * settings (`ema`, `avg`, `x`, `log`). Defaults are left out.
 */
export type ChartsView = {
  runs: string[];
  by: GroupBy | null;
  band: BandMode;
  panels: string[][];
  hidden: string[];
  xKey: string | null;
  pc: string | null;
  settings: ChartSettings;
};

export const DEFAULT_CHARTS_VIEW: ChartsView = { runs: [], by: null, band: "minmax", panels: [], hidden: [], xKey: null, pc: null, settings: DEFAULT_SETTINGS };

const list = (raw: string | null, sep: string) => (raw ? raw.split(sep).filter(Boolean).map(decodeURIComponent) : []);

export function chartsViewFromParams(p: URLSearchParams): ChartsView {
  const by = p.get("by");
  return {
    runs: list(p.get("runs"), ","),
    by: by && GroupBySchema.safeParse(by).success ? by : null,
    band: p.get("band") === "std" ? "std" : "minmax",
    panels: (p.get("panels") ?? "")
      .split(";")
      .filter(Boolean)
      .map((panel) => list(panel, ","))
      .filter((keys) => keys.length > 0),
    hidden: list(p.get("hidden"), ","),
    xKey: p.get("xkey") || null,
    pc: p.get("pc") || null,
    settings: settingsFromParams(p),
  };
}

/** writes `v` into `p` (in place), dropping the defaults */
export function chartsViewToParams(v: ChartsView, p: URLSearchParams): URLSearchParams {
  const set = (name: string, value: string | null) => (value ? p.set(name, value) : p.delete(name));
  // only the separators (and %) are escaped here: URLSearchParams encodes the rest once
  const enc = (keys: string[]) => keys.map((k) => k.replace(/[%,;]/g, encodeURIComponent)).join(",");
  set("runs", v.runs.length ? enc(v.runs) : null);
  set("by", v.by);
  set("band", v.band === "std" ? "std" : null);
  set("panels", v.panels.length ? v.panels.map(enc).join(";") : null);
  set("hidden", v.hidden.length ? enc(v.hidden) : null);
  set("xkey", v.xKey);
  set("pc", v.pc);
  settingsToParams(v.settings, p);
  return p;
}

/** The chart and selection part of a saved view (server/services/views.ts `ViewState`). */
export type ChartsViewState = {
  chart?: {
    ema?: number;
    avg?: number;
    x?: ChartSettings["xAxis"];
    log?: boolean;
    xKey?: string | null;
    panels?: string[][];
    hidden?: string[];
    pc?: string | null;
  };
  grouping?: { by?: string | null; band?: BandMode };
  selected?: string[];
};

export function chartsViewToState(v: ChartsView): ChartsViewState {
  const s = v.settings;
  return {
    chart: { ema: s.ema, avg: s.avgWindow, x: s.xAxis, log: s.log, xKey: v.xKey, panels: v.panels, hidden: v.hidden, pc: v.pc },
    grouping: { by: v.by, band: v.band },
    selected: v.runs,
  };
}

/** a saved view's chart state over `base` (fields the view leaves out keep their value) */
export function chartsViewFromState(st: ChartsViewState, base: ChartsView = DEFAULT_CHARTS_VIEW): ChartsView {
  const c = st.chart ?? {};
  const by = st.grouping?.by;
  return {
    runs: st.selected ?? base.runs,
    by: by === undefined ? base.by : by && GroupBySchema.safeParse(by).success ? by : null,
    band: st.grouping?.band ?? base.band,
    panels: c.panels ?? base.panels,
    hidden: c.hidden ?? base.hidden,
    xKey: c.xKey === undefined ? base.xKey : c.xKey,
    pc: c.pc === undefined ? base.pc : c.pc,
    settings: {
      ema: c.ema ?? base.settings.ema,
      avgWindow: c.avg !== undefined ? Math.max(1, c.avg) : base.settings.avgWindow,
      xAxis: c.x ?? base.settings.xAxis,
      log: c.log ?? base.settings.log,
    },
  };
}
