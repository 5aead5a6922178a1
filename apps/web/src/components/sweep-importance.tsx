"use client";
import { formatNumber } from "../lib/format";
import type { SweepDetail } from "./sweep-types";

/**
 * Per parameter, as W&B shows it: importance (share of the metric's variance the parameter
 * explains alone, ε² of a one-way ANOVA; 0…1) and Spearman correlation (−1…1, green when larger
 * values go with a larger metric, red otherwise). Computed by the server from scored trials.
 */
export function SweepImportance({ detail }: { detail: SweepDetail }) {
  const rows = detail.importance;
  const scored = rows[0]?.trials ?? 0;
  return (
    <div className="chart" data-plot="importance" data-params={rows.length}>
      <div className="chart-head">
        <h3>Parameter importance for {detail.sweep.metric.name}</h3>
      </div>
      {scored < 3 ? (
        <p className="muted small">Needs at least 3 trials with a metric ({scored} so far).</p>
      ) : (
        <table className="importance">
          <thead>
            <tr>
              <th>parameter</th>
              <th title="share of the metric's variance this parameter explains on its own (ε²)">importance</th>
              <th title="Spearman rank correlation with the metric; none for choices without an order">correlation</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.path} data-param={r.path}>
                <td className="mono">{r.path}</td>
                <td>
                  <span className="bar">
                    <span className="bar-fill importance-fill" style={{ width: `${Math.round(Math.max(0, Math.min(1, r.importance)) * 100)}%` }} />
                  </span>
                  <span className="bar-value">{formatNumber(r.importance)}</span>
                </td>
                <td>
                  {r.correlation === null ? (
                    <span className="muted">—</span>
                  ) : (
                    <>
                      <span className="bar two-sided">
                        <span
                          className={`bar-fill ${r.correlation >= 0 ? "corr-pos" : "corr-neg"}`}
                          style={{
                            left: r.correlation >= 0 ? "50%" : `${50 + r.correlation * 50}%`,
                            width: `${Math.abs(r.correlation) * 50}%`,
                          }}
                        />
                      </span>
                      <span className="bar-value">{formatNumber(r.correlation)}</span>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">
        Over {scored} scored trials (completed and pruned). Importance: variance of the metric explained by the parameter alone; correlation: Spearman&apos;s ρ.
      </p>
    </div>
  );
}
