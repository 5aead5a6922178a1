"use client";
import { isSystemKey } from "@heron/core";

import { flattenConfig } from "../lib/flatten";
import { formatWithUnit } from "../lib/units";

type MetricSummary = { last: number | null; min: number | null; max: number | null; count?: number | null; lastStep?: number | null };

/**
 * The top of the run page: last / min / max of every logged scalar (system keys left to the
 * System tab) and the values the script set with `run.summary`.
 */
export function RunSummary({ metrics, summary }: { metrics: Record<string, MetricSummary>; summary: unknown }) {
  const scalars = Object.entries(metrics)
    .filter(([k]) => !isSystemKey(k))
    .sort(([a], [b]) => a.localeCompare(b));
  const values = Object.entries(flattenConfig(summary ?? {})).sort(([a], [b]) => a.localeCompare(b));
  if (!scalars.length && !values.length) return null;
  return (
    <details className="run-summary" open data-testid="run-summary">
      <summary>Summary</summary>
      <div className="grid2">
        {scalars.length > 0 && (
          <table className="kv compact">
            <thead>
              <tr>
                <th>metric</th>
                <th className="num">last</th>
                <th className="num">min</th>
                <th className="num">max</th>
                <th className="num">points</th>
              </tr>
            </thead>
            <tbody>
              {scalars.map(([k, s]) => (
                <tr key={k} data-key={k}>
                  <th scope="row">{k}</th>
                  <td className="num">{formatWithUnit(k, s.last)}</td>
                  <td className="num">{formatWithUnit(k, s.min)}</td>
                  <td className="num">{formatWithUnit(k, s.max)}</td>
                  <td className="num">{s.count ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {values.length > 0 && (
          <table className="kv compact" data-testid="run-summary-values">
            <thead>
              <tr>
                <th>summary</th>
                <th>value</th>
              </tr>
            </thead>
            <tbody>
              {values.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td className="mono">{/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v) ? formatWithUnit(k, Number(v)) : v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </details>
  );
}
