import { formatBytes, formatNumber, formatTick } from "./format";

export type Unit = "bytes" | "bytes/s" | "percent" | null;

/**
 * The unit a metric key names by convention (the SDK's system metrics: `…_bytes`, `…_bytes_s`,
 * `…_pct`; training jobs' `planned_bytes`, `measured_peak_bytes`), so charts and tables can
 * say "2.4 GiB" and "11%" instead of "2.4e9" and "11 B".
 */
export function unitOfKey(key: string): Unit {
  if (/(_pct|percent|_ratio_pct)$/i.test(key)) return "percent";
  if (/bytes_s$/i.test(key)) return "bytes/s";
  if (/(bytes|_rss|heap)$/i.test(key)) return "bytes";
  return null;
}

/** a value for a table or legend, with its unit */
export function formatWithUnit(key: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  const unit = unitOfKey(key);
  if (unit === "percent") return `${formatNumber(v)}%`;
  if (unit === "bytes") return formatBytes(v);
  if (unit === "bytes/s") return `${formatBytes(v)}/s`;
  return formatNumber(v);
}

/** an axis tick: as short as formatTick, with the key's unit */
export function formatTickWithUnit(key: string, v: number): string {
  const unit = unitOfKey(key);
  if (unit === "percent") return `${formatTick(v)}%`;
  if (unit === "bytes") return formatBytes(v).replace(".0 ", " ");
  if (unit === "bytes/s") return `${formatBytes(v).replace(".0 ", " ")}/s`;
  return formatTick(v);
}
