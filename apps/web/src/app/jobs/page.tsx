"use client";
import { useEffect, useState } from "react";

import { JobsTable } from "../../components/jobs-table";
import { SpecForm } from "../../components/spec-form";
import { useQuery } from "../../components/use-query";
import { api, errorMessage } from "../../lib/api";

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];

export default function JobsPage() {
  const [status, setStatus] = useState("");
  const { data: jobs, error, reload } = useQuery(() => api.job.list.query(status ? { status: status as "queued" } : {}), [status], 2000);
  const projects = useQuery(() => api.project.list.query(), []);
  const [project, setProject] = useState("demo");
  // the first project the user can see, rather than a "demo" they may not have
  useEffect(() => {
    const names = (projects.data ?? []).map((p) => p.name);
    if (names.length && !names.includes(project)) setProject(names[0]!);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new project list may move the choice; the user's own pick must not re-trigger it
  }, [projects.data]);
  const role = useQuery(() => api.project.get.query({ project }).then((p) => p.myRole), [project]);
  const disabledReason =
    role.data === "viewer"
      ? `You are a viewer of "${project}": submitting jobs needs the member role.`
      : role.error && /needs the project role/.test(role.error)
        ? `You are not a member of "${project}".`
        : null;
  const [submitted, setSubmitted] = useState<{ jobIds: string[]; group: string | null; project: string } | null>(null);
  return (
    <>
      <h1>Jobs</h1>
      <div className="card">
        <h2>Submit a job</h2>
        <div className="field narrow">
          <label htmlFor="job-project">
            project
            <span className="req" aria-label="required">
              *
            </span>
          </label>
          <input id="job-project" list="project-names" value={project} onChange={(e) => setProject(e.target.value)} />
          <datalist id="project-names">
            {(projects.data ?? []).map((p) => (
              <option key={p.id} value={p.name} />
            ))}
          </datalist>
        </div>
        <SpecForm
          project={project}
          disabledReason={disabledReason}
          onSubmit={async (spec) => {
            try {
              setSubmitted(null);
              const { jobIds, group } = await api.job.submit.mutate({ projectId: project, spec });
              setSubmitted({ jobIds, group, project });
              reload();
              return null;
            } catch (err) {
              const msg = errorMessage(err);
              // only a missing project is fixed by creating one; a missing teacher or base run says so itself
              return /^project ".*" not found/.test(msg) ? `${msg} — create the project on the Projects page first.` : msg;
            }
          }}
        />
        {submitted && (
          <p className="ok" role="status">
            {submitted.jobIds.length === 1 ? "Job" : `${submitted.jobIds.length} jobs`} queued in {submitted.project}
            {submitted.group ? ` (group ${submitted.group})` : ""}:{" "}
            {submitted.jobIds.map((id, i) => (
              <span key={id}>
                {i > 0 && ", "}
                <code data-job={id}>{id}</code>
              </span>
            ))}
            . They start when a runner has a free slot.
          </p>
        )}
      </div>
      <div className="toolbar">
        <h2 style={{ margin: 0 }}>Queue</h2>
        <select aria-label="job status filter" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">all statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {jobs && jobs.length === 0 && (
        <p className="muted">
          {status ? `No ${status} jobs.` : "No jobs yet. Submit one above; a runner (npm run runner -- --server URL --token T) picks it up."}
        </p>
      )}
      {jobs && jobs.length > 0 && <JobsTable jobs={jobs} reload={reload} />}
    </>
  );
}
