"use client";
import { useState } from "react";
import { api, errorMessage } from "../../lib/api";
import { useQuery } from "../../components/use-query";
import { formatDate } from "../../lib/format";

const EXAMPLE = { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 1, batchSize: 64, lr: 0.001, maxTrainSamples: 10000 };

export default function JobsPage() {
  const { data: jobs, error, reload } = useQuery(() => api.job.list.query({}), [], 2000);
  const [project, setProject] = useState("demo");
  const [spec, setSpec] = useState(JSON.stringify(EXAMPLE, null, 2));
  const [submitError, setSubmitError] = useState<string | null>(null);
  return (
    <>
      <h1>Jobs</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api.job.submit.mutate({ projectId: project, spec: JSON.parse(spec) });
            setSubmitError(null);
            reload();
          } catch (err) {
            setSubmitError(errorMessage(err));
          }
        }}
      >
        <label>Project <input aria-label="project" value={project} onChange={(e) => setProject(e.target.value)} /></label>
        <br />
        <textarea aria-label="job spec" rows={8} cols={70} value={spec} onChange={(e) => setSpec(e.target.value)} />
        <br />
        <button className="primary" type="submit">Submit job</button>
        {submitError && <p className="error" data-testid="submit-error">{submitError}</p>}
      </form>
      <h2>Queue</h2>
      {error && <p className="error">{error}</p>}
      {jobs && jobs.length === 0 && <p className="muted">No jobs yet.</p>}
      {jobs && jobs.length > 0 && (
        <table>
          <thead>
            <tr><th>Job</th><th>Project</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Runner</th><th>Run</th><th>Created</th><th></th></tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id}>
                <td>{j.id.slice(-8)}</td>
                <td>{j.project.name}</td>
                <td>{j.kind}</td>
                <td className={`status status-${j.status}`}>{j.status}</td>
                <td>{j.attempts}</td>
                <td>{j.runner?.name ?? "—"}</td>
                <td>{j.runId ? <a href={`/runs/${j.runId}`}>open</a> : "—"}</td>
                <td>{formatDate(j.createdAt)}</td>
                <td>
                  {(j.status === "queued" || j.status === "running") && <button onClick={() => api.job.cancel.mutate({ jobId: j.id }).then(reload)}>Cancel</button>}
                  {(j.status === "failed" || j.status === "cancelled") && <button onClick={() => api.job.retry.mutate({ jobId: j.id }).then(reload)}>Retry</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
