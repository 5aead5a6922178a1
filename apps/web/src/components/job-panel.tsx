"use client";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";
import { formatDate } from "../lib/format";
import { PipelineStages } from "./pipeline-stages";
import { useQuery } from "./use-query";

export const CANCELLABLE = ["queued", "running"];
export const RETRYABLE = ["failed", "cancelled"];

/**
 * Cancel / Retry buttons for a job, with the server's refusal shown beside them. A pipeline
 * (and each of its stages) is cancelled as a whole and submitted again rather than retried.
 */
export function JobActions({ jobId, status, onDone, inPipeline = false }: { jobId: string; status: string; onDone: () => void; inPipeline?: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = (fn: () => Promise<unknown>) => {
    setBusy(true);
    fn().then(
      () => (setError(null), setBusy(false), onDone()),
      (e) => (setError(errorMessage(e)), setBusy(false)),
    );
  };
  return (
    <span className="actions">
      {CANCELLABLE.includes(status) && (
        <button
          disabled={busy}
          onClick={() =>
            window.confirm(`Cancel job ${jobId.slice(-8)}? A running job stops and its run ends "aborted".`) && act(() => api.job.cancel.mutate({ jobId }))
          }
          aria-label={`cancel job ${jobId}`}
        >
          Cancel
        </button>
      )}
      {RETRYABLE.includes(status) && !inPipeline && (
        <button disabled={busy} onClick={() => act(() => api.job.retry.mutate({ jobId }))} aria-label={`retry job ${jobId}`}>
          Retry
        </button>
      )}
      {error && <span className="error"> {error}</span>}
    </span>
  );
}

/** A job (the one behind a run, or a pipeline): status, attempts, runner, a pipeline's stages, its event history, cancel/retry. */
export function JobPanel({ jobId }: { jobId: string | null }) {
  const job = useQuery(() => (jobId ? api.job.get.query({ jobId }) : Promise.resolve(null)), [jobId], 2000);
  const events = useQuery(() => (jobId ? api.job.events.query({ jobId }) : Promise.resolve([])), [jobId], 2000);
  if (!jobId) return <p className="muted">This run was logged by a script, not a queued job: there are no attempts to show. Submit jobs from the Jobs page.</p>;
  if (job.error) return <p className="error">{job.error}</p>;
  const j = job.data;
  if (!j) return <p className="muted">Loading…</p>;
  return (
    <div>
      <table className="kv" data-testid="job-summary">
        <tbody>
          <tr>
            <th scope="row">job</th>
            <td className="mono">
              <a href={`/jobs/${j.id}`}>{j.id}</a> ({j.kind})
            </td>
          </tr>
          {j.pipelineJobId && (
            <tr>
              <th scope="row">pipeline</th>
              <td>
                stage {j.stageName} of <a href={`/jobs/${j.pipelineJobId}`}>pipeline {j.pipelineJobId.slice(-8)}</a>
              </td>
            </tr>
          )}
          <tr>
            <th scope="row">status</th>
            <td>
              <span className={`status status-${j.status}`} data-testid="job-status">
                {j.status}
              </span>
              {j.cancelRequested && j.status === "running" ? " (cancel requested)" : ""}
            </td>
          </tr>
          {/* a pipeline is never leased: its stages have the attempts and runners */}
          {j.kind !== "pipeline" && (
            <>
              <tr>
                <th scope="row">attempts</th>
                <td>
                  {j.attempts} of {j.maxAttempts}
                </td>
              </tr>
              <tr>
                <th scope="row">runner</th>
                <td>{j.runner ? `${j.runner.name}${j.runner.hostname ? ` on ${j.runner.hostname}` : ""}` : "—"}</td>
              </tr>
            </>
          )}
          <tr>
            <th scope="row">queue</th>
            <td>
              {j.queue} (priority {j.priority})
            </td>
          </tr>
          {j.error && (
            <tr>
              <th scope="row">error</th>
              <td>
                <pre className="error">{j.error}</pre>
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p>
        <JobActions jobId={j.id} status={j.status} inPipeline={j.kind === "pipeline" || !!j.pipelineJobId} onDone={() => (job.reload(), events.reload())} />
      </p>
      {j.stages && (
        <>
          <h3>Stages</h3>
          <PipelineStages stages={j.stages} />
        </>
      )}
      <h3>Events</h3>
      <table>
        <thead>
          <tr>
            <th>time</th>
            <th>attempt</th>
            <th>event</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          {(events.data ?? []).map((e) => (
            <tr key={e.id}>
              <td>{formatDate(e.createdAt)}</td>
              <td>{e.attempt}</td>
              <td>{e.type}</td>
              <td className="wrap">{e.message ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
