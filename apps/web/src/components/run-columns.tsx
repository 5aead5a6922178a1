"use client";
import { isSystemKey } from "@heron/core";
import { type ReactNode, useMemo } from "react";

import type { api } from "../lib/api";
import { flattenConfig } from "../lib/flatten";
import { formatDate, formatDuration } from "../lib/format";
import { formatWithUnit } from "../lib/units";

export type RunRow = Awaited<ReturnType<typeof api.run.list.query>>[number];
export type Value = string | number | null;
export type Column = { id: string; label: string; get: (r: RunRow) => Value; render?: (r: RunRow) => ReactNode; numeric?: boolean };

export const tagsOf = (r: RunRow) => (Array.isArray(r.tags) ? (r.tags as unknown[]).map(String) : []);
export const STATUSES = ["running", "finished", "crashed", "aborted", "stale", "pruned"];

function baseColumns(): Column[] {
  return [
    {
      id: "name",
      label: "Name",
      get: (r) => r.name,
      render: (r) => (
        <>
          <a href={`/runs/${r.id}`}>{r.name}</a>
          {r.archivedAt && <span className="tag muted">archived</span>}
        </>
      ),
    },
    { id: "status", label: "Status", get: (r) => r.status, render: (r) => <span className={`status-pill status-${r.status}`}>{r.status}</span> },
    {
      id: "tags",
      label: "Tags",
      get: (r) => tagsOf(r).join(" "),
      render: (r) =>
        tagsOf(r).map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        )),
    },
    { id: "group", label: "Group", get: (r) => r.group ?? null },
    { id: "host", label: "Host", get: (r) => r.host ?? null },
    { id: "created", label: "Created", get: (r) => new Date(r.createdAt).getTime(), render: (r) => formatDate(r.createdAt), numeric: true },
    { id: "duration", label: "Duration", get: (r) => r.durationMs, render: (r) => formatDuration(r.durationMs), numeric: true },
  ];
}

/**
 * Every column the runs table can show for these runs (base, config values, metric
 * last/min/max, run.summary values) and the default choice: config values that differ
 * between runs and the last value of the first metrics.
 */
export function useRunColumns(runs: RunRow[]) {
  const configs = useMemo(() => new Map(runs.map((r) => [r.id, flattenConfig(r.config)])), [runs]);
  const configKeys = useMemo(() => [...new Set([...configs.values()].flatMap((c) => Object.keys(c)))].sort(), [configs]);
  const metricKeys = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const allColumns = useMemo<Column[]>(() => {
    // a row may come from elsewhere than `runs` (an opened group of the folded table): flatten it then
    const configOf = (r: RunRow) => configs.get(r.id) ?? flattenConfig(r.config);
    const cfg: Column[] = configKeys.map((k) => ({ id: `config:${k}`, label: k, get: (r) => configOf(r)[k] ?? null }));
    const met: Column[] = metricKeys.flatMap((k) =>
      (["last", "min", "max"] as const).map((agg) => ({
        id: `metric:${k}:${agg}`,
        label: `${k} (${agg})`,
        get: (r: RunRow) => r.metrics[k]?.[agg] ?? null,
        // the key's unit (…_bytes → MiB, …_pct → %), as charts and the summary panel show it
        render: (r: RunRow) => formatWithUnit(k, r.metrics[k]?.[agg]),
        numeric: true,
      })),
    );
    // the values a script set with run.summary (final scores, memory figures …)
    const summaries = new Map(runs.map((r) => [r.id, flattenConfig(r.summary)]));
    const sumKeys = [...new Set([...summaries.values()].flatMap((v) => Object.keys(v)))].sort();
    const sum: Column[] = sumKeys.map((k) => {
      const get = (r: RunRow): Value => {
        const v = (summaries.get(r.id) ?? flattenConfig(r.summary))[k];
        return v === undefined ? null : Number.isFinite(Number(v)) ? Number(v) : v;
      };
      return {
        id: `summary:${k}`,
        label: `${k} (summary)`,
        get,
        render: (r) => {
          const v = get(r);
          return typeof v === "number" ? formatWithUnit(k, v) : (v ?? "—");
        },
        numeric: true,
      };
    });
    return [...baseColumns(), ...cfg, ...met, ...sum];
  }, [configKeys, metricKeys, configs, runs]);

  // default columns: the base ones, config values that differ between runs, last value of the first metrics
  const defaults = useMemo(() => {
    // config keys whose recorded values differ (a key missing from some runs isn't a difference worth a column)
    const distinct = (k: string) => new Set([...configs.values()].map((c) => c[k]).filter((v) => v !== undefined)).size;
    const varying = configKeys
      .filter((k) => distinct(k) > 1)
      .sort((a, b) => distinct(b) - distinct(a))
      .slice(0, 4);
    const metrics = metricKeys.filter((k) => !isSystemKey(k)).slice(0, 4);
    return [...baseColumns().map((c) => c.id), ...varying.map((k) => `config:${k}`), ...metrics.map((k) => `metric:${k}:last`)];
  }, [configKeys, metricKeys, configs]);
  return { configs, configKeys, allColumns, defaults };
}
