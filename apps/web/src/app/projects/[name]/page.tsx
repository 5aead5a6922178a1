"use client";
import { type GroupBy } from "@heron/core";
import { use, useCallback, useEffect, useState } from "react";

import { AlertsPanel } from "../../../components/alerts-panel";
import { MembersPanel } from "../../../components/members-panel";
import { RUN_VIEWS, RunBulkActions, type RunView } from "../../../components/run-bulk-actions";
import { RunsTable, serverSortable } from "../../../components/runs-table";
import { type AppliedView, SavedViews, type ViewState } from "../../../components/saved-views";
import { useQuery } from "../../../components/use-query";
import { api } from "../../../lib/api";
import { chartsViewFromParams, chartsViewFromState, chartsViewToParams, chartsViewToState } from "../../../lib/charts-view";
import { tableViewFromParams, tableViewToParams } from "../../../lib/table-view";
import { replaceQuery } from "../../../lib/view-params";

/** runs per page of the table unless chosen otherwise (run.page: filtered, sorted and paged on the server) */
const PAGE_SIZE = 50;

/** `value`, once it has stopped changing for `ms` (typing in the search box asks once, not per key) */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export default function ProjectPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const [view, setView] = useState<RunView>("active");
  const [table, setTable] = useState<ViewState>({});
  const [linked, setLinked] = useState<boolean | null>(null);
  const [pageSize, setPageSize] = useState(PAGE_SIZE);
  const [offset, setOffset] = useState(0);
  // every filter and the sort run on the server (services/run-query.ts): the table shows one page
  const f = table.filters ?? {};
  const search = useSettled(f.text?.trim() ?? "", 250);
  const sort = table.sort && serverSortable(table.sort.col) ? table.sort : undefined;
  const query = {
    projectId: project,
    view,
    tag: f.tag || undefined,
    status: f.status || undefined,
    search: search || undefined,
    config: f.configKey && f.configValue ? [{ key: f.configKey, op: "eq" as const, value: f.configValue }] : undefined,
    sort,
  };
  const queryKey = JSON.stringify(query);
  // a new filter or sort starts at the first page (pinning a run does not)
  useEffect(() => setOffset(0), [queryKey, pageSize]);
  // pinned runs come back apart on every page (run.page's pinnedRows), whatever the page and sort
  const pinned = (table.pinned ?? []).slice(0, 100);
  const pinnedKey = pinned.join(",");
  const {
    data: listed,
    error,
    reload,
  } = useQuery(
    // nothing before the URL is read: a linked filter is the first query, not a second one
    () => (linked === null ? Promise.resolve(null) : api.run.page.query({ ...query, offset, limit: pageSize, pinned })),
    [queryKey, offset, pageSize, pinnedKey, linked === null],
    3000,
  );
  const runs = listed?.runs ?? null;
  const filtered = !!(query.tag || query.status || f.text?.trim() || query.config);
  // after the first page: tRPC batches the queries of one tick into one answer, and the rows
  // should not wait for the facets (every tag of the project) to be read
  const ready = listed !== null;
  const facets = useQuery(() => (ready ? api.run.facets.query({ projectId: project, view }) : Promise.resolve(null)), [project, view, ready], 30_000);
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  const configKeys = facets.data?.configKeys.map((k) => k.key) ?? [];
  const [applied, setApplied] = useState<AppliedView | null>(null);
  const [by, setBy] = useState<GroupBy | null>(null);
  // folded: the groups of every filtered run (run.groups); a group opened reads its runs page by page
  const { sort: _sort, ...filters } = query;
  const groups = useQuery(
    () => (by && linked !== null ? api.run.groups.query({ ...filters, by }) : Promise.resolve(null)),
    [queryKey, by, linked === null],
    3000,
  );
  const loadGroup = useCallback(
    (value: string | null, at: number, limit: number) =>
      by ? api.run.page.query({ ...query, inGroup: { by, value }, offset: at, limit }) : Promise.resolve({ runs: [], total: 0 }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `query` is read through queryKey
    [queryKey, by],
  );
  // the whole view lives in the URL: the table's part here, grouping and chart settings in the
  // charts page's parameters (the Charts link carries them); read after mount, like the run page
  const [urlSearch, setSearch] = useState("");
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
    ...chartsViewToState({ ...chartsViewFromParams(new URLSearchParams(urlSearch)), by, runs: table.selected ?? [] }),
  });
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / {project}
      </p>
      <h1>{project}</h1>
      <p className="actions">
        <a href={`/projects/${encodeURIComponent(project)}/sweeps`}>Sweeps</a> <a href={`/projects/${encodeURIComponent(project)}/artifacts`}>Artifacts</a>{" "}
        <a href={`/projects/${encodeURIComponent(project)}/charts${urlSearch}`} data-testid="charts-link">
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
      {listed && listed.total === 0 && !filtered && view !== "active" && <p className="muted">No runs here.</p>}
      {listed && listed.total === 0 && !filtered && view === "active" && (
        <p className="muted">
          No runs yet. Submit a job from the <a href="/jobs">Jobs</a> page, or log one with the SDK:{" "}
          <code>
            init({"{"} project: &quot;{project}&quot; {"}"})
          </code>
          .
        </p>
      )}
      {listed && runs && (listed.total > 0 || filtered) && (
        <RunsTable
          project={project}
          runs={runs}
          total={listed.total}
          offset={listed.offset}
          pageSize={pageSize}
          onPage={setOffset}
          onPageSize={setPageSize}
          facets={facets.data}
          applied={applied}
          onViewChange={onTable}
          by={by}
          pinnedRows={listed.pinnedRows}
          pinnedOutside={listed.pinnedOutsideFilters}
          groups={by && groups.data?.by === by ? groups.data : null}
          loadGroup={by ? loadGroup : undefined}
          actions={(selected, clear, shown) => (
            <RunBulkActions
              project={project}
              view={view}
              runs={shown}
              selected={selected}
              clear={clear}
              reload={() => (reload(), groups.reload())}
              canManageTrash={info.data?.myRole === "maintainer"}
              total={listed.total}
            />
          )}
        />
      )}
      {info.data && <MembersPanel project={project} canManage={info.data.myRole === "maintainer"} />}
      {info.data && <AlertsPanel project={project} canManage={info.data.myRole === "maintainer"} />}
    </>
  );
}
