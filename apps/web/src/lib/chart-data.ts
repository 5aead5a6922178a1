import { smoothEma, smoothRunningAverage, type Series } from "@heron/core";

export type XAxisMode = "step" | "relative" | "wall";
export type ChartSettings = { ema: number; avgWindow: number; xAxis: XAxisMode; log: boolean };
export const DEFAULT_SETTINGS: ChartSettings = { ema: 0, avgWindow: 1, xAxis: "step", log: false };

export type LivePoints = { steps: number[]; values: (number | null)[]; ts: number[] };
export type ChartLine = { id: string; label: string; color: string; series: Series | null; live?: LivePoints; startTs?: number };

/** One line ready to draw: x, raw y, smoothed y (or null when no smoothing), band lo/hi. */
export type PreparedLine = { x: number[]; y: (number | null)[]; smooth: (number | null)[] | null; lo: (number | null)[] | null; hi: (number | null)[] | null; steps: number[] };

/** Stored series plus the live points logged after its last step (live points are exact). */
function mergeLive(series: Series, live: LivePoints | undefined) {
  const steps = series.steps.slice();
  const values = series.values.slice();
  const ts = series.ts ? series.ts.slice() : null;
  const lo = series.min ? series.min.slice() : null;
  const hi = series.max ? series.max.slice() : null;
  if (live && live.steps.length) {
    const last = steps.length ? steps[steps.length - 1]! : -1;
    for (let i = 0; i < live.steps.length; i++) {
      const s = live.steps[i]!;
      if (s <= last) continue;
      steps.push(s);
      values.push(live.values[i]!);
      ts?.push(live.ts[i]!);
      lo?.push(live.values[i]!);
      hi?.push(live.values[i]!);
    }
  }
  return { steps, values, ts, lo, hi };
}

/** Whether every line can be drawn against time (bucketed series carry no per-point time). */
export function timeAxisAvailable(lines: ChartLine[]): boolean {
  return lines.every((l) => !l.series || !!l.series.ts);
}

export function prepareLine(line: ChartLine, s: ChartSettings): PreparedLine | null {
  if (!line.series) return null;
  const m = mergeLive(line.series, line.live);
  const useTime = s.xAxis !== "step" && !!m.ts;
  const t0 = line.startTs ?? (m.ts && m.ts.length ? m.ts[0]! : 0);
  const x = useTime ? m.ts!.map((t) => (s.xAxis === "wall" ? t / 1000 : (t - t0) / 1000)) : m.steps;
  // log scales cannot show values ≤ 0: draw them as gaps rather than break the axis
  const clip = (a: (number | null)[]) => (s.log ? a.map((v) => (v !== null && v > 0 ? v : null)) : a);
  const y = clip(m.values);
  let smooth: (number | null)[] | null = null;
  if (s.ema > 0) smooth = smoothEma(y, s.ema);
  if (s.avgWindow > 1) smooth = smoothRunningAverage(smooth ?? y, s.avgWindow);
  return { x, y, smooth, lo: m.lo ? clip(m.lo) : null, hi: m.hi ? clip(m.hi) : null, steps: m.steps };
}

/**
 * Groups keys into sections by their prefix ("train/loss" → "train"); keys without one go to
 * "charts". depth 2 groups "sys/host-a/cpu" under "sys/host-a" (one section per host).
 */
export function groupKeys(keys: string[], depth = 1): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const k of [...keys].sort()) {
    const parts = k.split("/");
    const section = parts.length > depth ? parts.slice(0, depth).join("/") : parts.length > 1 ? parts.slice(0, -1).join("/") : "charts";
    groups.set(section, [...(groups.get(section) ?? []), k]);
  }
  return [...groups.entries()];
}
