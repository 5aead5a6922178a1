"use client";
import { useEffect, useState } from "react";
import { api } from "../lib/api";
import { flattenConfig } from "../lib/flatten";
import { formatBytes, formatNumber } from "../lib/format";
import { useQuery } from "./use-query";

/** A flat key → value table (config, environment, summary). */
export function KeyValueTable({ value, empty, testId }: { value: unknown; empty: string; testId?: string }) {
  const flat = Object.entries(flattenConfig(value ?? {}));
  if (!flat.length) return <p className="muted">{empty}</p>;
  return (
    <table className="kv" data-testid={testId}>
      <tbody>
        {flat.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="mono">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** stdout/stderr of the run's process(es), searchable; follows new lines while the run is live. */
export function LogsPanel({ runId, live }: { runId: string; live: boolean }) {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);
  const { data, error } = useQuery(() => api.run.logs.query({ runId, limit: 5000, ...(query ? { search: query } : {}) }), [runId, query], live ? 2000 : undefined);
  return (
    <div>
      <div className="toolbar">
        <input type="search" placeholder="Search logs…" aria-label="search logs" value={search} onChange={(e) => setSearch(e.target.value)} />
        {data && <span className="muted">{data.length} line{data.length === 1 ? "" : "s"}{query ? ` matching “${query}”` : ""}</span>}
      </div>
      {error && <p className="error">{error}</p>}
      {data && data.length === 0 && <p className="muted">{query ? "No line matches this search." : "No log lines yet. Jobs run by a runner stream their stdout/stderr here."}</p>}
      {data && data.length > 0 && (
        <pre className="logs" data-testid="logs">
          {data.map((l) => (
            <div key={l.id} className={`log-${l.stream}`}>
              {l.line}
            </div>
          ))}
        </pre>
      )}
    </div>
  );
}

/** Text samples: one table per (key, step), e.g. seed 002's question / answer / truth. */
export function TextPanel({ runId }: { runId: string }) {
  const { data, error } = useQuery(() => api.dashboard.textSamples.query({ runId }), [runId], 5000);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  if (!data.length) return <p className="muted">No text samples. A job logs them with <code>ctx.logText(key, rows, step)</code>.</p>;
  return (
    <div className="stack">
      {data.map((s) => {
        const rows = Array.isArray(s.rows) ? (s.rows as Record<string, unknown>[]) : [];
        const cols = [...new Set(rows.flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : [])))];
        return (
          <div key={`${s.key}@${s.step}`}>
            <h3>
              {s.key} <span className="muted">step {s.step}</span>
            </h3>
            <table>
              <thead>
                <tr>
                  <th>#</th>
                  {cols.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    <td>{i + 1}</td>
                    {cols.map((c) => (
                      <td key={c} className="wrap">
                        {String(r[c] ?? "")}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </div>
  );
}

type Summary = Record<string, { last: number | null; max: number | null }>;

/** The memory planner's estimate (run summary) beside what the process measured (sys/ metrics). */
export function MemoryPanel({ summary, metrics }: { summary: unknown; metrics: Summary }) {
  const planned = Object.entries((summary ?? {}) as Record<string, unknown>).filter(([k, v]) => typeof v === "number" && /plan|bytes|mem/i.test(k)) as [string, number][];
  const measured: [string, { last: number | null; max: number | null }][] = Object.entries(metrics).filter(([k]) => /mem|rss|heap|bytes/i.test(k));
  if (!planned.length && !measured.length) return <p className="muted">No memory figures for this run. Training jobs record the planner's estimate (planned_bytes) and the runner samples memory under sys/.</p>;
  const asBytes = (k: string, v: number | null) => (v === null ? "—" : /bytes|rss|heap/i.test(k) ? formatBytes(v) : formatNumber(v));
  return (
    <div className="grid2">
      <div>
        <h3>Planned</h3>
        <table className="kv">
          <tbody>
            {planned.length ? planned.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{asBytes(k, v)}</td>
              </tr>
            )) : <tr><td className="muted">no plan recorded</td></tr>}
          </tbody>
        </table>
      </div>
      <div>
        <h3>Measured</h3>
        <table className="kv">
          <thead>
            <tr>
              <th>key</th>
              <th>last</th>
              <th>peak</th>
            </tr>
          </thead>
          <tbody>
            {measured.length ? measured.map(([k, s]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{asBytes(k, s.last)}</td>
                <td>{asBytes(k, s.max)}</td>
              </tr>
            )) : <tr><td colSpan={3} className="muted">no memory samples</td></tr>}
          </tbody>
        </table>
      </div>
    </div>
  );
}
