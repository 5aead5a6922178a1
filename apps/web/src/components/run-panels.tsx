"use client";
import { isSystemKey } from "@heron/core";
import { useEffect, useState } from "react";

import { api } from "../lib/api";
import { flattenConfig } from "../lib/flatten";
import { formatBytes, formatNumber } from "../lib/format";
import { formatWithUnit, unitOfKey } from "../lib/units";
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
  const { data, error } = useQuery(
    () => api.run.logs.query({ runId, limit: 5000, ...(query ? { search: query } : {}) }),
    [runId, query],
    live ? 2000 : undefined,
  );
  return (
    <div>
      <div className="toolbar">
        <input type="search" placeholder="Search logs…" aria-label="search logs" value={search} onChange={(e) => setSearch(e.target.value)} />
        {data && (
          <span className="muted">
            {data.length} line{data.length === 1 ? "" : "s"}
            {query ? ` matching “${query}”` : ""}
          </span>
        )}
      </div>
      {error && <p className="error">{error}</p>}
      {data && data.length === 0 && (
        <p className="muted">{query ? "No line matches this search." : "No log lines yet. Jobs run by a runner stream their stdout/stderr here."}</p>
      )}
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

/** Text samples: per key, a table for the chosen step (latest by default), e.g. seed 002's question / answer / truth. */
export function TextPanel({ runId, live }: { runId: string; live: boolean }) {
  const { data, error } = useQuery(() => api.run.texts.query({ runId, limit: 5000 }), [runId], live ? 3000 : undefined);
  const [picked, setPicked] = useState<Record<string, number>>({});
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  if (!data.length)
    return (
      <p className="muted">
        No text samples. Log them with <code>run.logText(key, rows)</code> (e.g. predictions beside the ground truth).
      </p>
    );
  const byKey = new Map<string, typeof data>();
  for (const t of data) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t]);
  return (
    <div className="stack">
      {[...byKey.entries()].map(([key, samples]) => {
        const steps = samples.map((x) => x.step);
        const step = picked[key] ?? steps[steps.length - 1]!;
        const sample = samples.find((x) => x.step === step) ?? samples[samples.length - 1]!;
        const rows = (Array.isArray(sample.rows) ? sample.rows : [sample.rows]) as unknown[];
        const objects = rows.map((r) => (r && typeof r === "object" ? (r as Record<string, unknown>) : { text: r }));
        const cols = [...new Set(objects.flatMap((r) => Object.keys(r)))];
        return (
          <div key={key} data-text-key={key}>
            <div className="toolbar">
              <h3 style={{ margin: 0 }}>{key}</h3>
              <label>
                step
                <select aria-label={`${key} step`} value={step} onChange={(e) => setPicked((p) => ({ ...p, [key]: Number(e.target.value) }))}>
                  {steps.map((st) => (
                    <option key={st} value={st}>
                      {st}
                    </option>
                  ))}
                </select>
              </label>
              <span className="muted small">
                {steps.length} step{steps.length === 1 ? "" : "s"} logged
              </span>
            </div>
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
                {objects.map((r, i) => (
                  <tr key={i}>
                    <td>{i + 1}</td>
                    {cols.map((c) => (
                      <td key={c} className="wrap">
                        {typeof r[c] === "string" ? (r[c] as string) : JSON.stringify(r[c] ?? "")}
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

/** One logged image, its bytes fetched when it is shown. */
function MediaImage({ runId, id, alt, width, height }: { runId: string; id: number; alt: string; width: number; height: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    api.run.mediaData.query({ runId, id }).then(
      (m) => !stop && setSrc(`data:${m.mime};base64,${m.base64}`),
      () => undefined,
    );
    return () => void (stop = true);
  }, [runId, id]);
  const scale = Math.max(1, Math.floor(160 / Math.max(width, height)));
  return src ? (
    <img src={src} alt={alt} width={width * scale} height={height * scale} className="pixelated" />
  ) : (
    <div className="img-placeholder" style={{ width: width * scale, height: height * scale }} />
  );
}

/** Images per key; a step picker shows that step's images (small images are scaled up, pixelated). */
export function ImagesPanel({ runId, live }: { runId: string; live: boolean }) {
  const { data, error } = useQuery(() => api.run.media.query({ runId, limit: 5000 }), [runId], live ? 5000 : undefined);
  const [picked, setPicked] = useState<Record<string, number>>({});
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  if (!data.length)
    return (
      <p className="muted">
        No images. Log them with{" "}
        <code>
          run.logImage(key, image, {"{"} caption {"}"})
        </code>
        .
      </p>
    );
  const byKey = new Map<string, typeof data>();
  for (const m of data) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
  return (
    <div className="stack">
      {[...byKey.entries()].map(([key, items]) => {
        const steps = [...new Set(items.map((m) => m.step))];
        const step = picked[key] ?? steps[steps.length - 1]!;
        return (
          <div key={key}>
            <div className="toolbar">
              <h3 style={{ margin: 0 }}>{key}</h3>
              <label>
                step
                <select aria-label={`${key} step`} value={step} onChange={(e) => setPicked((p) => ({ ...p, [key]: Number(e.target.value) }))}>
                  {steps.map((st) => (
                    <option key={st} value={st}>
                      {st}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <div className="gallery">
              {items
                .filter((m) => m.step === step)
                .map((m) => (
                  <figure key={m.id}>
                    <MediaImage runId={runId} id={m.id} alt={m.caption ?? `${key} step ${m.step}`} width={m.width} height={m.height} />
                    {m.caption && <figcaption>{m.caption}</figcaption>}
                  </figure>
                ))}
            </div>
          </div>
        );
      })}
    </div>
  );
}

type Summary = Record<string, { last: number | null; max: number | null }>;

/** The memory planner's estimate (run summary) beside what the job measured (summary) and the process sampled (sys/ metrics). */
export function MemoryPanel({ summary, metrics }: { summary: unknown; metrics: Summary }) {
  const entries = Object.entries((summary ?? {}) as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === "number");
  const planned = entries.filter(([k]) => /plan/i.test(k));
  const measuredSummary = entries.filter(([k]) => /measured|peak/i.test(k));
  const sampled: [string, { last: number | null; max: number | null }][] = Object.entries(metrics).filter(([k]) => isSystemKey(k) && /mem|rss|heap/i.test(k));
  const measured: [string, { last: number | null; max: number | null }][] = [
    ...measuredSummary.map(([k, v]) => [k, { last: v, max: v }] as [string, { last: number; max: number }]),
    ...sampled,
  ];
  const plan = planned.find(([k]) => k === "planned_bytes")?.[1];
  const peak = measuredSummary.find(([k]) => k === "measured_peak_bytes")?.[1];
  if (!planned.length && !measured.length)
    return (
      <p className="muted">
        No memory figures for this run. Training jobs record the planner&apos;s estimate (planned_bytes) and the measured peak; the SDK samples process memory
        under sys/.
      </p>
    );
  // by the key's unit: `sys/…/mem_pct` is a percentage, not bytes
  const asBytes = (k: string, v: number | null) => (v === null ? "—" : unitOfKey(k) ? formatWithUnit(k, v) : /mem/i.test(k) ? formatBytes(v) : formatNumber(v));
  return (
    <div className="grid2">
      {plan !== undefined && peak !== undefined && (
        <p style={{ gridColumn: "1 / -1", margin: 0 }} data-testid="memory-ratio">
          Measured peak is <b>{formatNumber((peak / plan) * 100)}%</b> of the plan ({formatBytes(peak)} of {formatBytes(plan)}).
        </p>
      )}
      <div>
        <h3>Planned</h3>
        <table className="kv">
          <tbody>
            {planned.length ? (
              planned.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{asBytes(k, v)}</td>
                </tr>
              ))
            ) : (
              <tr>
                <td className="muted">no plan recorded</td>
              </tr>
            )}
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
            {measured.length ? (
              measured.map(([k, s]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{asBytes(k, s.last)}</td>
                  <td>{asBytes(k, s.max)}</td>
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
