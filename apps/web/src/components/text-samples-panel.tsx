"use client";
import { useState } from "react";

import { api } from "../lib/api";
import { StepPicker } from "./step-picker";
import { sampleColumns, type SampleImage, sampleImage } from "./text-samples";
import { useQuery } from "./use-query";

/** a sample's picture, small ones scaled up pixelated (a 28×28 digit at 112 px) */
function SampleImg({ img, alt }: { img: SampleImage; alt: string }) {
  const scale = Math.max(1, Math.floor(112 / Math.max(img.width, img.height)));
  return <img src={img.src} alt={alt} width={img.width * scale} height={img.height * scale} className="pixelated" />;
}

/** image | question | model answer | ground truth, side by side (seed 002's and the VLM stages' rows) */
function ColumnsTable({ rows, keyName }: { rows: NonNullable<ReturnType<typeof sampleColumns>>[]; keyName: string }) {
  const withImages = rows.some((r) => r.image);
  return (
    <table data-testid="text-samples-columns">
      <thead>
        <tr>
          <th>#</th>
          {withImages && <th>image</th>}
          <th>question</th>
          <th>model answer</th>
          <th>ground truth</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            <td>{i + 1}</td>
            {withImages && <td>{r.image ? <SampleImg img={r.image} alt={`${keyName} #${i + 1}`} /> : <span className="muted">—</span>}</td>}
            <td className="wrap">{r.question}</td>
            <td className="wrap" data-col="answer">
              {r.answer}
            </td>
            <td className="wrap" data-col="truth">
              {r.truth}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** any other rows: one column per field; an image field as its picture, everything else as text */
function PlainTable({ rows, keyName }: { rows: Record<string, unknown>[]; keyName: string }) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort((a, b) => Number(b === "image") - Number(a === "image"));
  return (
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
            {cols.map((c) => {
              const img = c === "image" ? sampleImage(r[c]) : null;
              return (
                <td key={c} className="wrap">
                  {img ? (
                    <SampleImg img={img} alt={`${keyName} #${i + 1}`} />
                  ) : typeof r[c] === "string" ? (
                    (r[c] as string)
                  ) : c === "image" ? (
                    ""
                  ) : (
                    JSON.stringify(r[c] ?? "")
                  )}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Text samples: per key, the rows of the chosen step (latest by default), e.g. seed 002's question / answer / truth. */
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
        const columns = objects.map(sampleColumns);
        const parsed = columns.every((c) => c !== null) ? (columns as NonNullable<(typeof columns)[number]>[]) : null;
        return (
          <div key={key} data-text-key={key}>
            <div className="toolbar">
              <h3 style={{ margin: 0 }}>{key}</h3>
              <StepPicker label={key} steps={steps} step={step} onPick={(st) => setPicked((p) => ({ ...p, [key]: st }))} />
              <span className="muted small">
                {steps.length} step{steps.length === 1 ? "" : "s"} logged
              </span>
            </div>
            {parsed ? <ColumnsTable rows={parsed} keyName={key} /> : <PlainTable rows={objects} keyName={key} />}
          </div>
        );
      })}
    </div>
  );
}
