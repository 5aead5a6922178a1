"use client";
import type { JsonValue } from "@heron/core";

import { formatDuration, formatNumber } from "../lib/format";
import { formatParam, type SweepDetail, sweptParams, trialStatusLabel } from "./sweep-types";

/** One row per trial: its parameters, how it ended (pruned included, with the reason), metric, duration and run. */
export function SweepTrialsTable({ detail }: { detail: SweepDetail }) {
  const params = sweptParams(detail);
  const bestRun = detail.best?.runId ?? null;
  return (
    <div className="table-scroll">
      <table data-testid="trials-table">
        <thead>
          <tr>
            <th className="num">#</th>
            {params.map(({ path }) => (
              <th key={path} className="num mono">
                {path}
              </th>
            ))}
            <th>status</th>
            <th className="num">{detail.sweep.metric.name}</th>
            <th className="num">duration</th>
            <th>run</th>
          </tr>
        </thead>
        <tbody>
          {detail.trials.map((t) => {
            const label = trialStatusLabel(t);
            return (
              <tr key={t.index} data-trial={t.index} data-status={t.status} className={t.runId !== null && t.runId === bestRun ? "best-trial" : undefined}>
                <td className="num">{t.index}</td>
                {params.map(({ path }) => (
                  <td key={path} className="num mono">
                    {formatParam(t.params[path] as JsonValue | undefined)}
                  </td>
                ))}
                <td>
                  <span className={`status-pill status-${label}`} title={t.pruneReason ?? undefined}>
                    {label}
                  </span>
                  {t.attempts > 1 && <span className="badge" title="the job was requeued (its runner was lost)">{`attempt ${t.attempts}`}</span>}
                  {t.runId !== null && t.runId === bestRun && <span className="badge">best</span>}
                </td>
                <td className="num">{formatNumber(t.metric)}</td>
                <td className="num">{t.durationMs === null ? "—" : formatDuration(t.durationMs)}</td>
                <td>{t.runId ? <a href={`/runs/${t.runId}`}>{t.runId.slice(-8)}</a> : <span className="muted">—</span>}</td>
              </tr>
            );
          })}
          {detail.trials.length === 0 && (
            <tr>
              <td colSpan={params.length + 5} className="muted">
                No trials yet: the controller queues the first ones within a second.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
