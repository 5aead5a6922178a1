"use client";
import { type GroupBy } from "@heron/core";
import { use, useCallback, useEffect, useState } from "react";

import { AlertsPanel } from "../../../components/alerts-panel";
import { MembersPanel } from "../../../components/members-panel";
import { RUN_VIEWS, RunBulkActions, type RunView } from "../../../components/run-bulk-actions";
import { useRunColumns } from "../../../components/run-columns";
import { RunsTable } from "../../../components/runs-table";
import { type AppliedView, SavedViews, type ViewState } from "../../../components/saved-views";
import { useQuery } from "../../../components/use-query";
import { api } from "../../../lib/api";
import { chartsViewFromParams, chartsViewFromState, chartsViewToParams, chartsViewToState } from "../../../lib/charts-view";
import { tableViewFromParams, tableViewToParams } from "../../../lib/table-view";
import { replaceQuery } from "../../../lib/view-params";

/** runs the table loads at most (newest first, after the server-side tag and status filters) */
const LIST_LIMIT = 500;

export default function ProjectPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const [view, setView] = useState<RunView>("active");
  const [table, setTable] = useState<ViewState>({});
  const [linked, setLinked] = useState<boolean | null>(null);
  // tag and status filter on the server too: the table holds the newest LIST_LIMIT matches
  const serverTag = table.filters?.tag || undefined;
  const serverStatus = table.filters?.status || undefined;
  const {
    data: runs,
    error,
    reload,
  } = useQuery(
    // nothing before the URL is read: a linked tag or status filter is the first query, not a second one
    () => (linked === null ? Promise.resolve(null) : api.run.list.query({ projectId: project, view, tag: serverTag, status: serverStatus, limit: LIST_LIMIT })),
    [project, view, serverTag, serverStatus, linked === null],
    3000,
  );
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  const { configKeys } = useRunColumns(runs ?? []);
  const [applied, setApplied] = useState<AppliedView | null>(null);
  const [by, setBy] = useState<GroupBy | null>(null);
  // the whole view lives in the URL: the table's part here, grouping and chart settings in the
  // charts page's parameters (the Charts link carries them); read after mount, like the run page
  const [search, setSearch] = useState("");
  const applyView = useCallback((s: ViewState) => {
    if (s.view) setView(s.view);
    setApplied({ state: s, seq: Date.now() });
    const charts = chartsViewFromState(s, chartsViewFromParams(new URLSearchParams(window.location.search)));
    setBy(charts.by);
    replaceQuery((p) => chartsViewToParams(charts, p));
    setSearch(window.location.search);
  }, []);
  useEffect(() => {
    const p = new URLSearchParams(window.location.search);
    const s = tableViewFromParams(p);
    if (s.view) setView(s.view);
    setBy(chartsViewFromParams(p).by);
    if (Object.keys(s).length) setApplied({ state: s, seq: Date.now() });
    setTable(s);
    setLinked(window.location.search.length > 1);
    setSearch(window.location.search);
  }, []);
  const onTable = useCallback(
    (s: ViewState) => {
      setTable(s);
      replaceQuery((p) => tableViewToParams({ ...s, view }, p));
      setSearch(window.location.search);
    },
    [view],
  );
  const changeBy = (next: GroupBy | null) => {
    setBy(next);
    replaceQuery((p) => (next ? p.set("by", next) : p.delete("by")));
    setSearch(window.location.search);
  };
  // a saved view holds the table and the chart settings (from the URL) together
  const current = (): ViewState => ({
    ...table,
    view,
    ...chartsViewToState({ ...chartsViewFromParams(new URLSearchParams(search)), by, runs: table.selected ?? [] }),
  });
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / {project}
      </p>
      <h1>{project}</h1>
      <p className="actions">
        <a href={`/projects/${encodeURIComponent(project)}/sweeps`}>Sweeps</a> <a href={`/projects/${encodeURIComponent(project)}/artifacts`}>Artifacts</a>{" "}
        <a href={`/projects/${encodeURIComponent(project)}/charts${search}`} data-testid="charts-link">
          Charts{table.selected?.length ? ` (${table.selected.length} selected)` : ""}
        </a>{" "}
        <select aria-label="group runs by" value={by ?? ""} onChange={(e) => changeBy(e.target.value || null)}>
          <option value="">no grouping</option>
          <option value="tag">group by tag</option>
          <option value="group">group by job group</option>
          {configKeys.map((k) => (
            <option key={k} value={`config:${k}`}>
              group by config {k}
            </option>
          ))}
        </select>{" "}
        <select aria-label="which runs" value={view} onChange={(e) => setView(e.target.value as RunView)}>
          {RUN_VIEWS.map((v) => (
            <option key={v.id} value={v.id}>
              {v.label}
            </option>
          ))}
        </select>{" "}
        {linked !== null && <SavedViews project={project} current={current()} onApply={applyView} skipDefault={linked} />}
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
      {runs && runs.length >= LIST_LIMIT && (
        <p className="muted small" data-testid="runs-capped">
          The newest {LIST_LIMIT} runs{serverTag || serverStatus ? " that match" : ""} are loaded; filter by tag or status to reach older ones.
        </p>
      )}
      {runs && runs.length > 0 && (
        <RunsTable
          project={project}
          runs={runs}
          applied={applied}
          onViewChange={onTable}
          by={by}
          actions={(selected, clear) => (
            <RunBulkActions
              project={project}
              view={view}
              runs={runs}
              selected={selected}
              clear={clear}
              reload={reload}
              canManageTrash={info.data?.myRole === "maintainer"}
            />
          )}
        />
      )}
      {info.data && <MembersPanel project={project} canManage={info.data.myRole === "maintainer"} />}
      {info.data && <AlertsPanel project={project} canManage={info.data.myRole === "maintainer"} />}
    </>
  );
}
