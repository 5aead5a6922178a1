import { type ChartSettings, DEFAULT_SETTINGS } from "./chart-data";

/**
 * A run page's view state in its URL (shareable, kept on reload): `tab`, chart settings
 * (`ema`, `avg`, `x`, `log`) and collapsed sections (`collapsed=train,sys/h`). Defaults are left
 * out so a plain link stays plain.
 */
const X_AXES: ChartSettings["xAxis"][] = ["step", "relative", "wall"];

export function settingsFromParams(p: URLSearchParams): ChartSettings {
  const num = (name: string, min: number, max: number, fallback: number) => {
    const v = Number(p.get(name));
    return p.has(name) && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
  };
  const x = p.get("x") as ChartSettings["xAxis"] | null;
  return {
    ema: num("ema", 0, 0.999, DEFAULT_SETTINGS.ema),
    avgWindow: Math.round(num("avg", 1, 10_000, DEFAULT_SETTINGS.avgWindow)),
    xAxis: x && X_AXES.includes(x) ? x : DEFAULT_SETTINGS.xAxis,
    log: p.get("log") === "1",
  };
}

/** writes `s` into `p` (in place), dropping the defaults */
export function settingsToParams(s: ChartSettings, p: URLSearchParams): URLSearchParams {
  const set = (name: string, v: string | null) => (v === null ? p.delete(name) : p.set(name, v));
  set("ema", s.ema !== DEFAULT_SETTINGS.ema ? String(s.ema) : null);
  set("avg", s.avgWindow !== DEFAULT_SETTINGS.avgWindow ? String(s.avgWindow) : null);
  set("x", s.xAxis !== DEFAULT_SETTINGS.xAxis ? s.xAxis : null);
  set("log", s.log ? "1" : null);
  return p;
}

export function collapsedFromParams(p: URLSearchParams): Record<string, boolean> {
  const raw = p.get("collapsed");
  return Object.fromEntries((raw ? raw.split(",").filter(Boolean) : []).map((s) => [s, true]));
}

export function collapsedToParams(c: Record<string, boolean>, p: URLSearchParams): URLSearchParams {
  const on = Object.keys(c).filter((k) => c[k]);
  if (on.length) p.set("collapsed", on.join(","));
  else p.delete("collapsed");
  return p;
}

/** replaces the page's query (no navigation, no history entry) */
export function replaceQuery(update: (p: URLSearchParams) => void) {
  const url = new URL(window.location.href);
  update(url.searchParams);
  const next = `${url.pathname}${url.search}${url.hash}`;
  if (next !== `${window.location.pathname}${window.location.search}${window.location.hash}`) window.history.replaceState(window.history.state, "", next);
}
