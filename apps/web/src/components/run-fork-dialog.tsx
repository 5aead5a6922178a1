"use client";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";

type ForkableRun = { id: string; name: string; jobId: string | null; config: unknown; metrics: Record<string, { maxStep: number }> };

/** the highest training step the run logged (system metrics are stepped in seconds) */
export function lastStepOf(run: Pick<ForkableRun, "metrics">): number {
  const steps = Object.entries(run.metrics)
    .filter(([k]) => !k.startsWith("sys/"))
    .map(([, s]) => s.maxStep);
  return steps.length ? Math.max(...steps) : 0;
}

/** a starting point for the overrides: the learning rate, the knob a fork most often turns */
function defaultOverrides(config: unknown): string {
  const lr = (config as { lr?: unknown } | null)?.lr;
  return typeof lr === "number" ? JSON.stringify({ lr: lr / 2 }) : "{}";
}

/**
 * "Fork from here": a new job from this job run's newest stored checkpoint at or before the
 * step, with spec overrides (JSON, e.g. a lower lr). The server says which checkpoint step it
 * starts from; the new run opens when it is queued. `step` comes from the run header's input
 * or a chart's clicked step.
 */
export function RunForkDialog({ run, step: initialStep, onClose }: { run: ForkableRun; step?: number; onClose: () => void }) {
  const last = lastStepOf(run);
  const [step, setStep] = useState(String(initialStep ?? last));
  const [overrides, setOverrides] = useState(() => defaultOverrides(run.config));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  let parsed: Record<string, unknown> | null = null;
  let jsonError: string | null = null;
  try {
    const v: unknown = JSON.parse(overrides || "{}");
    if (v && typeof v === "object" && !Array.isArray(v)) parsed = v as Record<string, unknown>;
    else jsonError = 'overrides must be a JSON object, e.g. {"lr": 0.0005}';
  } catch (e) {
    jsonError = `overrides are not valid JSON: ${(e as Error).message}`;
  }
  const n = Number(step);
  const stepError = !Number.isInteger(n) || n < 0 ? "step must be a whole number ≥ 0" : n > last ? `the run's last step is ${last}` : null;
  return (
    <div className="card" role="dialog" aria-label="fork run" data-testid="fork-dialog">
      <h2>Fork {run.name}</h2>
      <p className="muted small">
        A new job with this run&apos;s spec plus your overrides, starting from its newest stored checkpoint at or before the step. The new run&apos;s charts
        show this run&apos;s history up to that step, then its own.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (stepError || !parsed) return;
          setBusy(true);
          setError(null);
          api.run.fork.mutate({ runId: run.id, step: n, overrides: parsed }).then(
            (r) => (window.location.href = `/runs/${r.runId}`),
            (err: unknown) => {
              setBusy(false);
              setError(errorMessage(err));
            },
          );
        }}
      >
        <p>
          <label>
            step <input aria-label="fork step" type="number" min={0} max={last} value={step} onChange={(e) => setStep(e.target.value)} />
          </label>{" "}
          <span className="muted small">0 – {last}</span>
        </p>
        <p>
          <label>
            overrides (JSON)
            <br />
            <textarea aria-label="fork overrides" rows={3} cols={50} value={overrides} onChange={(e) => setOverrides(e.target.value)} className="mono" />
          </label>
        </p>
        {(stepError ?? jsonError) && <p className="error small">{stepError ?? jsonError}</p>}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <p className="actions">
          <button type="submit" className="primary" disabled={busy || !!stepError || !parsed}>
            {busy ? "Forking…" : "Fork"}
          </button>{" "}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </p>
      </form>
    </div>
  );
}
