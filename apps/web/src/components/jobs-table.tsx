"use client";
import type { api } from "../lib/api";
import { formatDate, formatDuration } from "../lib/format";
import { formatEta, specModelDataset } from "../lib/job-progress";
import { JobActions } from "./job-panel";
import { StageSummary } from "./pipeline-stages";

type JobRow = Awaited<ReturnType<typeof api.job.list.query>>[number];

/** The queue: one row per job with its progress, attempts, runner, run and actions; a pipeline is one row with its stages' progress. */
export function JobsTable({ jobs, reload }: { jobs: JobRow[]; reload: () => void }) {
  return (
    <div className="table-scroll">
      <table data-testid="jobs-table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Project</th>
            <th>Kind</th>
            <th>Model</th>
            <th>Dataset</th>
            <th>Status</th>
            <th>Progress</th>
            <th>Attempts</th>
            <th>Runner</th>
            <th>Run</th>
            <th>Created</th>
            <th>Duration</th>
            <th>
              <span className="sr-only">actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-job={j.id}>
              <td className="mono" title={j.id}>
                <a href={`/jobs/${j.id}`}>{j.id.slice(-8)}</a>
              </td>
              <td>
                <a href={`/projects/${encodeURIComponent(j.project.name)}`}>{j.project.name}</a>
              </td>
              <td>{j.kind}</td>
              <td>{specModelDataset(j.spec).model ?? "—"}</td>
              <td>{specModelDataset(j.spec).dataset ?? "—"}</td>
              <td>
                <span className={`status-pill status-${j.status}`} data-testid="job-status">
                  {j.status}
                </span>
                {j.cancelRequested && j.status === "running" ? <span className="muted"> cancelling…</span> : null}
              </td>
              <td data-testid="job-progress">
                {j.stages ? (
                  <StageSummary stages={j.stages} />
                ) : j.progress ? (
                  <>
                    <progress max={j.progress.totalSteps} value={j.progress.step} /> {j.progress.step}/{j.progress.totalSteps} · epoch {j.progress.epoch}/
                    {j.progress.epochs}
                    {j.progress.etaSec !== null ? ` · ETA ${formatEta(j.progress.etaSec)}` : ""}
                  </>
                ) : (
                  "—"
                )}
              </td>
              <td>
                {j.attempts}/{j.maxAttempts}
              </td>
              <td>{j.runner?.name ?? "—"}</td>
              <td>{j.runId ? <a href={`/runs/${j.runId}`}>open run</a> : "—"}</td>
              <td>{formatDate(j.createdAt)}</td>
              <td>{j.startedAt ? formatDuration(new Date(j.finishedAt ?? Date.now()).getTime() - new Date(j.startedAt).getTime()) : "—"}</td>
              <td>
                <JobActions jobId={j.id} status={j.status} inPipeline={j.kind === "pipeline" || !!j.pipelineJobId} onDone={reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
