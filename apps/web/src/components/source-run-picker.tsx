"use client";
import { useMemo, useState } from "react";

import { api } from "../lib/api";
import { formatDate } from "../lib/format";
import { useQuery } from "./use-query";

/**
 * Picks a teacher (distillation) or base (fine-tuning) run: the project's finished runs that a
 * Heron job trained (only those have a checkpoint to start from), newest first, with a search
 * over name, id and tags. Choosing one fills the field with `{"runId": …}`.
 */
export function SourceRunPicker({
  project,
  what,
  value,
  onPick,
}: {
  project: string;
  what: "teacher" | "base";
  value: string;
  onPick: (json: string) => void;
}) {
  const runs = useQuery(() => api.run.list.query({ projectId: project, limit: 5000 }), [project]);
  const [q, setQ] = useState("");
  const finished = useMemo(() => (runs.data ?? []).filter((r) => r.status === "finished" && r.jobId), [runs.data]);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const tags = (t: unknown) => (Array.isArray(t) ? t.map(String).join(" ") : "");
    return finished.filter((r) => !needle || `${r.name} ${r.id} ${tags(r.tags)}`.toLowerCase().includes(needle)).slice(0, 50);
  }, [finished, q]);
  let current = "";
  try {
    const id = (JSON.parse(value) as { runId?: unknown }).runId;
    current = typeof id === "string" ? id : "";
  } catch {
    current = "";
  }
  if (runs.error)
    return (
      <span className="muted small">
        Cannot list the runs of {project}: {runs.error}
      </span>
    );
  return (
    <span className="source-picker" data-testid={`${what}-picker`}>
      <input
        type="search"
        aria-label={`search ${what} runs`}
        placeholder={`search finished runs of ${project}…`}
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <select
        aria-label={`${what} run`}
        value={shown.some((r) => r.id === current) ? current : ""}
        onChange={(e) => e.target.value && onPick(JSON.stringify({ runId: e.target.value }))}
      >
        <option value="">
          {runs.data
            ? finished.length
              ? `choose a ${what} run (${shown.length} of ${finished.length})`
              : `no finished job runs in ${project} yet`
            : "loading runs…"}
        </option>
        {shown.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} · {formatDate(r.createdAt)}
          </option>
        ))}
      </select>
    </span>
  );
}
