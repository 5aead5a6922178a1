"use client";
import { use } from "react";

import { MembersPanel } from "../../../components/members-panel";
import { RunsTable } from "../../../components/runs-table";
import { useQuery } from "../../../components/use-query";
import { api } from "../../../lib/api";

export default function ProjectPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const { data: runs, error, reload } = useQuery(() => api.run.list.query({ projectId: project }), [project], 3000);
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / {project}
      </p>
      <h1>{project}</h1>
      <p className="actions">
        <a href={`/projects/${encodeURIComponent(project)}/sweeps`}>Sweeps</a>
      </p>
      {error && !runs && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {!runs && !error && <p className="muted">Loading…</p>}
      {runs && runs.length === 0 && (
        <p className="muted">
          No runs yet. Submit a job from the <a href="/jobs">Jobs</a> page, or log one with the SDK:{" "}
          <code>
            init({"{"} project: &quot;{project}&quot; {"}"})
          </code>
          .
        </p>
      )}
      {runs && runs.length > 0 && <RunsTable project={project} runs={runs} />}
      {info.data && <MembersPanel project={project} canManage={info.data.myRole === "maintainer"} />}
    </>
  );
}
