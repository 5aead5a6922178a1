"use client";
import { useEffect, useState } from "react";

import { api } from "../lib/api";
import { flattenConfig } from "../lib/flatten";
import { StepPicker } from "./step-picker";
import { useQuery } from "./use-query";

// the text-samples view and the Memory tab live in their own modules; the run page imports them from here
export { MemoryPanel } from "./memory-panel";
export { TextPanel } from "./text-samples-panel";

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
              <StepPicker label={key} steps={steps} step={step} onPick={(st) => setPicked((p) => ({ ...p, [key]: st }))} />
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
