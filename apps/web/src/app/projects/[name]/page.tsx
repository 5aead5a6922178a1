"use client";
import { use, useCallback, useState } from "react";

import { AlertsPanel } from "../../../components/alerts-panel";
import { MembersPanel } from "../../../components/members-panel";
import { RUN_VIEWS, RunBulkActions, type RunView } from "../../../components/run-bulk-actions";
import { RunsTable } from "../../../components/runs-table";
import { type AppliedView, SavedViews, type ViewState } from "../../../components/saved-views";
import { useQuery } from "../../../components/use-query";
import { api } from "../../../lib/api";

export default function ProjectPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const [view, setView] = useState<RunView>("active");
  const { data: runs, error, reload } = useQuery(() => api.run.list.query({ projectId: project, view }), [project, view], 3000);
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  const [applied, setApplied] = useState<AppliedView | null>(null);
  const [table, setTable] = useState<ViewState>({});
  const applyView = useCallback((s: ViewState) => {
    if (s.view) setView(s.view);
    setApplied({ state: s, seq: Date.now() });
  }, []);
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / {project}
      </p>
      <h1>{project}</h1>
      <p className="actions">
        <a href={`/projects/${encodeURIComponent(project)}/sweeps`}>Sweeps</a> <a href={`/projects/${encodeURIComponent(project)}/artifacts`}>Artifacts</a>{" "}
        <select aria-label="which runs" value={view} onChange={(e) => setView(e.target.value as RunView)}>
          {RUN_VIEWS.map((v) => (
            <option key={v.id} value={v.id}>
              {v.label}
            </option>
          ))}
        </select>{" "}
        <SavedViews project={project} current={{ ...table, view }} onApply={applyView} />
      </p>
      {error && !runs && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {!runs && !error && <p className="muted">Loading…</p>}
      {runs && runs.length === 0 && view !== "active" && <p className="muted">No runs here.</p>}
      {runs && runs.length === 0 && view === "active" && (
        <p className="muted">
          No runs yet. Submit a job from the <a href="/jobs">Jobs</a> page, or log one with the SDK:{" "}
          <code>
            init({"{"} project: &quot;{project}&quot; {"}"})
          </code>
          .
        </p>
      )}
      {runs && runs.length > 0 && (
        <RunsTable
          project={project}
          runs={runs}
          applied={applied}
          onViewChange={setTable}
          actions={(selected, clear) => <RunBulkActions project={project} view={view} runs={runs} selected={selected} clear={clear} reload={reload} />}
        />
      )}
      {info.data && <MembersPanel project={project} canManage={info.data.myRole === "maintainer"} />}
      {info.data && <AlertsPanel project={project} canManage={info.data.myRole === "maintainer"} />}
    </>
  );
}
