"use client";
import { formatIssues, SweepSpecSchema } from "@heron/core";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";

/** A sweep that works as written on any runner: the docs/sweeps.md example (random search, ASHA). */
export const EXAMPLE_SWEEP = {
  method: "random",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: {
    lr: { min: 0.0001, max: 0.1, distribution: "log_uniform" },
    batchSize: { values: [32, 64, 128] },
  },
  spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 6, batchSize: 64, lr: 0.01 },
  maxTrials: 8,
  parallel: 2,
  seed: 1,
  earlyTerminate: { type: "asha", minEpochs: 1, reductionFactor: 2, maxEpochs: 6 },
};

/**
 * "New sweep": the spec as JSON, checked here with the same schema the server uses (so a typo
 * is named before a round trip), then created; the server's refusals — a trial that would not
 * be a valid job, a missing project — show under the field too.
 */
export function SweepNewForm({ project, disabledReason, onCreated }: { project: string; disabledReason: string | null; onCreated: (sweepId: string) => void }) {
  const [text, setText] = useState(() => JSON.stringify(EXAMPLE_SWEEP, null, 2));
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  async function submit() {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return setErrors([`not valid JSON: ${errorMessage(err)}`]);
    }
    const parsed = SweepSpecSchema.safeParse(raw);
    if (!parsed.success) return setErrors(parsed.error.issues.map((i) => formatIssues([i])));
    setBusy(true);
    setErrors([]);
    try {
      // the text as written (defaults are the server's to apply, and it stores what it parsed)
      const { sweepId } = await api.sweep.create.mutate({ projectId: project, sweep: raw });
      onCreated(sweepId);
    } catch (err) {
      setErrors([errorMessage(err)]);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="sweep-spec" className="small muted">
        Sweep spec (JSON): <code>method</code>, <code>metric</code>, <code>parameters</code> (dot paths into <code>spec</code>), <code>spec</code> (the job),{" "}
        <code>maxTrials</code>, <code>parallel</code>, <code>seed</code>, <code>earlyTerminate</code> — see docs/sweeps.md.
      </label>
      <textarea
        id="sweep-spec"
        className="sweep-spec"
        spellCheck={false}
        value={text}
        aria-invalid={errors.length > 0}
        aria-describedby={errors.length ? "sweep-errors" : undefined}
        onChange={(e) => setText(e.target.value)}
      />
      {errors.length > 0 && (
        <ul id="sweep-errors" className="error field-errors" role="alert" data-testid="sweep-errors">
          {errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      <p className="actions">
        <button className="primary" type="submit" disabled={busy || !!disabledReason} title={disabledReason ?? undefined}>
          {busy ? "Creating…" : "Create sweep"}
        </button>
        <button type="button" onClick={() => (setText(JSON.stringify(EXAMPLE_SWEEP, null, 2)), setErrors([]))}>
          Reset to example
        </button>
      </p>
      {disabledReason && (
        <p className="muted small" data-testid="create-disabled">
          {disabledReason}
        </p>
      )}
    </form>
  );
}
