"use client";
import type { api } from "../lib/api";
import { formatProgress } from "../lib/job-progress";

type Stage = NonNullable<Awaited<ReturnType<typeof api.job.get.query>>["stages"]>[number];

/** A pipeline's stages in order: name, kind, status, progress of the running one, attempts, job and run. */
export function PipelineStages({ stages }: { stages: Stage[] }) {
  return (
    <table data-testid="pipeline-stages">
      <thead>
        <tr>
          <th>#</th>
          <th>stage</th>
          <th>kind</th>
          <th>status</th>
          <th>progress</th>
          <th>attempts</th>
          <th>job</th>
          <th>run</th>
        </tr>
      </thead>
      <tbody>
        {stages.map((s) => (
          <tr key={s.jobId} data-stage={s.name}>
            <td>{s.index + 1}</td>
            <td>{s.name}</td>
            <td>{s.kind}</td>
            <td>
              <span className={`status-pill status-${s.status}`} data-testid="stage-status">
                {s.status}
              </span>
            </td>
            <td>{s.progress ? formatProgress(s.progress) : s.status === "waiting" ? "waits for the stage before" : "—"}</td>
            <td>{s.attempts}</td>
            <td>
              <a className="mono" href={`/jobs/${s.jobId}`}>
                {s.jobId.slice(-8)}
              </a>
            </td>
            <td>{s.runId ? <a href={`/runs/${s.runId}`}>open run</a> : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One line for the jobs table: how far the pipeline is and what its current stage is doing. */
export function StageSummary({ stages }: { stages: Stage[] }) {
  const done = stages.filter((s) => s.status === "succeeded").length;
  const current = stages.find((s) => s.status === "running") ?? stages.find((s) => s.status === "queued") ?? stages.find((s) => s.status === "failed");
  return (
    <span data-testid="pipeline-progress">
      <progress max={stages.length} value={done} /> {done}/{stages.length} stages
      {current ? ` · ${current.name} ${current.status}` : ""}
      {current?.progress ? ` · ${formatProgress(current.progress)}` : ""}
    </span>
  );
}
