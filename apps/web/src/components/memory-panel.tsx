"use client";
import { isSystemKey } from "@heron/core";

import { formatBytes, formatNumber } from "../lib/format";
import { formatWithUnit, unitOfKey } from "../lib/units";

type Summary = Record<string, { last: number | null; max: number | null }>;

/** seed 000's four parts, as train jobs record them (memory-planner.ts memorySummary) */
const PARTS = [
  ["params + grads", "planned_params_grads_bytes"],
  ["optimizer state", "planned_optimizer_bytes"],
  ["batch", "planned_batch_bytes"],
  ["activations", "planned_activations_bytes"],
] as const;

/** a figure by its key's unit: bytes for …_bytes, % for …_pct, a plain number otherwise (never "11 B" for a percentage) */
const byUnit = (k: string, v: number | null) => (v === null ? "—" : unitOfKey(k) ? formatWithUnit(k, v) : formatNumber(v));

/** the plan's four parts, its total and the backend's measured peak, side by side with a bar each (scaled to the larger of plan and peak) */
function PartsTable({ parts, plan, peak }: { parts: [string, number][]; plan: number | undefined; peak: number | undefined }) {
  const rows: [string, number, string][] = [...parts.map(([k, v]) => [k, v, "part"] as [string, number, string])];
  if (plan !== undefined) rows.push(["planned total", plan, "total"]);
  if (peak !== undefined) rows.push(["measured peak (backend)", peak, "peak"]);
  const scale = Math.max(1, ...rows.map((r) => r[1]));
  return (
    <table className="kv" data-testid="memory-parts">
      <thead>
        <tr>
          <th>where</th>
          <th>bytes</th>
          <th>of plan</th>
          <th aria-hidden="true" style={{ width: "40%" }} />
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, v, kind]) => (
          <tr key={k} data-memory-row={kind}>
            <th scope="row">{k}</th>
            <td className="mono">{formatBytes(v)}</td>
            <td className="mono">{plan ? `${formatNumber((100 * v) / plan)}%` : "—"}</td>
            <td aria-hidden="true">
              <div
                style={{
                  height: 10,
                  width: `${(100 * v) / scale}%`,
                  background: kind === "peak" ? "var(--warn)" : kind === "total" ? "var(--accent)" : "var(--muted)",
                }}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The memory planner's estimate (run summary) in its four parts beside what the job measured and the process sampled (sys/ metrics). */
export function MemoryPanel({ summary, metrics }: { summary: unknown; metrics: Summary }) {
  const entries = Object.entries((summary ?? {}) as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number");
  const num = (k: string) => entries.find(([key]) => key === k)?.[1];
  const plan = num("planned_bytes");
  const peak = num("measured_peak_bytes");
  const parts = PARTS.flatMap(([label, k]) => (num(k) === undefined ? [] : [[label, num(k)!] as [string, number]]));
  const measuredSummary = entries.filter(([k]) => /measured|peak/i.test(k));
  const sampled = Object.entries(metrics).filter(([k]) => isSystemKey(k) && /mem|rss|heap/i.test(k));
  const measured: [string, { last: number | null; max: number | null }][] = [
    ...measuredSummary.map(([k, v]) => [k, { last: v, max: v }] as [string, { last: number; max: number }]),
    ...sampled,
  ];
  if (plan === undefined && !parts.length && !measured.length)
    return (
      <p className="muted">
        No memory figures for this run. Training jobs record the planner&apos;s estimate in four parts (params + grads, optimizer state, batch, activations) and
        the backend&apos;s measured peak; the SDK samples process memory under sys/.
      </p>
    );
  return (
    <div className="grid2">
      {plan !== undefined && peak !== undefined && (
        <p style={{ gridColumn: "1 / -1", margin: 0 }} data-testid="memory-ratio">
          Measured peak is <b>{formatNumber((peak / plan) * 100)}%</b> of the plan ({formatBytes(peak)} of {formatBytes(plan)}).
        </p>
      )}
      <div>
        <h3>Planned</h3>
        {parts.length || plan !== undefined || peak !== undefined ? (
          <PartsTable parts={parts} plan={plan} peak={peak} />
        ) : (
          <p className="muted">no plan recorded</p>
        )}
      </div>
      <div>
        <h3>Measured</h3>
        <table className="kv" data-testid="memory-measured">
          <thead>
            <tr>
              <th>key</th>
              <th>last</th>
              <th>peak</th>
            </tr>
          </thead>
          <tbody>
            {measured.length ? (
              measured.map(([k, s]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{byUnit(k, s.last)}</td>
                  <td>{byUnit(k, s.max)}</td>
                </tr>
              ))
            ) : (
              <tr>
                <td colSpan={3} className="muted">
                  no memory samples
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
