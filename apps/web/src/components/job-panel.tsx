"use client";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";
import { formatDate } from "../lib/format";
import { useQuery } from "./use-query";

export const CANCELLABLE = ["queued", "running"];
export const RETRYABLE = ["failed", "cancelled"];

/** Cancel / Retry buttons for a job, with the server's refusal shown beside them. */
export function JobActions({ jobId, status, onDone }: { jobId: string; status: string; onDone: () => void }) {
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
      {RETRYABLE.includes(status) && (
        <button disabled={busy} onClick={() => act(() => api.job.retry.mutate({ jobId }))} aria-label={`retry job ${jobId}`}>
          Retry
        </button>
      )}
      {error && <span className="error"> {error}</span>}
    </span>
  );
}

/** The job behind a run: status, attempts, runner, its event history, cancel/retry. */
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
            <td className="mono">{j.id}</td>
          </tr>
          <tr>
            <th scope="row">status</th>
            <td>
              <span className={`status status-${j.status}`} data-testid="job-status">
                {j.status}
              </span>
              {j.cancelRequested && j.status === "running" ? " (cancel requested)" : ""}
            </td>
          </tr>
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
        <JobActions jobId={j.id} status={j.status} onDone={() => (job.reload(), events.reload())} />
      </p>
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
