"use client";
import { isSystemKey } from "@heron/core";
import { use, useCallback, useEffect, useMemo, useState } from "react";

import { ChartPanel } from "../../../../components/chart-panel";
import { ChartsControls } from "../../../../components/charts-controls";
import { useRunColumns } from "../../../../components/run-columns";
import { RunsParallelCoords } from "../../../../components/runs-parallel-coords";
import { SavedViews, type ViewState } from "../../../../components/saved-views";
import { useQuery } from "../../../../components/use-query";
import { api } from "../../../../lib/api";
import {
  type ChartsView,
  chartsViewFromParams,
  chartsViewFromState,
  chartsViewToParams,
  chartsViewToState,
  DEFAULT_CHARTS_VIEW,
} from "../../../../lib/charts-view";
import { replaceQuery } from "../../../../lib/view-params";

/** without a selection the page charts the newest runs, at most this many */
const DEFAULT_RUNS = 20;
/** one panel per key up to this many (more: choose them) */
const MAX_DEFAULT_PANELS = 24;
const lowerIsBetter = (key: string) => /loss|error|perplexity|_err\b|mse|mae/i.test(key);

/**
 * Every chart of a project over the selected runs (`?runs=`; the newest otherwise): one panel per
 * metric or panels of chosen keys, grouping with mean ± band, a shared crosshair, and the runs'
 * config → metric on parallel coordinates. The whole view lives in the URL and in saved views.
 */
// Long because it is the page's layout: header, controls, panels with their key pickers, and the parallel coordinates.
export default function ProjectChartsPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const [view, setViewState] = useState<ChartsView | null>(null);
  const [linked, setLinked] = useState(false);
  useEffect(() => {
    setLinked(window.location.search.length > 1);
    setViewState(chartsViewFromParams(new URLSearchParams(window.location.search)));
  }, []);
  const setView = useCallback((v: ChartsView) => {
    setViewState(v);
    replaceQuery((p) => chartsViewToParams(v, p));
  }, []);
  const { data: all, error } = useQuery(() => api.run.list.query({ projectId: project }), [project]);
  const runs = useMemo(() => {
    if (!all || !view) return [];
    if (view.runs.length) return view.runs.map((id) => all.find((r) => r.id === id)).filter((r) => r !== undefined);
    const newest = [...all].sort((a, b) => +new Date(b.createdAt) - +new Date(a.createdAt));
    return view.by ? newest : newest.slice(0, DEFAULT_RUNS);
  }, [all, view]);
  const { configKeys } = useRunColumns(all ?? []);
  const metricKeys = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const applyView = useCallback((st: ViewState) => setView(chartsViewFromState(st, view ?? DEFAULT_CHARTS_VIEW)), [setView, view]);

  if (!view) return null;
  const shownKeys = metricKeys.filter((k) => !isSystemKey(k) && !view.hidden.includes(k) && k !== view.xKey);
  const panels = view.panels.length ? view.panels : shownKeys.slice(0, MAX_DEFAULT_PANELS).map((k) => [k]);
  const custom = view.panels.length > 0;
  const setPanels = (next: string[][]) => setView({ ...view, panels: next.filter((p) => p.length > 0) });
  const toggleKey = (i: number, key: string) => setPanels(panels.map((p, j) => (j !== i ? p : p.includes(key) ? p.filter((k) => k !== key) : [...p, key])));
  const pcMetric = view.pc && metricKeys.includes(view.pc) ? view.pc : (shownKeys[0] ?? null);
  const panelRuns = runs.map((r) => ({ id: r.id, name: r.name }));

  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> /{" "}
        <a href={`/projects/${encodeURIComponent(project)}${typeof window === "undefined" ? "" : window.location.search}`}>{project}</a> / charts
      </p>
      <h1>Charts</h1>
      <p className="muted" data-testid="charts-runs">
        {runs.length} run{runs.length === 1 ? "" : "s"}
        {view.runs.length ? " selected" : view.by ? " (every active run)" : ` (the newest ${DEFAULT_RUNS}; select runs in the runs table)`}
        {view.by ? ` · grouped by ${view.by.replace(/^config:/, "config ")}` : ""}
      </p>
      <p className="actions">
        <SavedViews project={project} current={chartsViewToState(view)} onApply={applyView} skipDefault={linked} />
      </p>
      <ChartsControls view={view} onChange={setView} configKeys={configKeys} metricKeys={metricKeys} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {all && runs.length === 0 && <p className="muted">No runs to chart.</p>}
      {runs.length > 0 && (
        <>
          <div className="charts" data-testid="panels">
            {panels.map((keys, i) => (
              <ChartPanel
                key={keys.join("\n") + i}
                project={project}
                keys={keys}
                runs={panelRuns}
                by={view.by}
                band={view.band}
                settings={view.settings}
                xKey={view.xKey}
                sync={`charts-${project}`}
                tools={
                  <>
                    <details className="chooser panel-keys">
                      <summary>Keys</summary>
                      <div className="chooser-menu">
                        {metricKeys.map((k) => (
                          <label key={k}>
                            <input type="checkbox" checked={keys.includes(k)} onChange={() => toggleKey(i, k)} aria-label={`panel ${i + 1} key ${k}`} /> {k}
                          </label>
                        ))}
                      </div>
                    </details>
                    <button
                      className="link"
                      title={custom ? "remove this panel" : "hide this key"}
                      onClick={() => (custom ? setPanels(panels.filter((_, j) => j !== i)) : setView({ ...view, hidden: [...view.hidden, ...keys] }))}
                    >
                      {custom ? "Remove" : "Hide"}
                    </button>
                  </>
                }
              />
            ))}
          </div>
          <p className="actions">
            <button onClick={() => setPanels([...panels, [shownKeys[0] ?? metricKeys[0]!]])} disabled={metricKeys.length === 0}>
              Add panel
            </button>{" "}
            {(custom || view.hidden.length > 0) && (
              <button className="link" onClick={() => setView({ ...view, panels: [], hidden: [] })}>
                One panel per key{view.hidden.length ? ` (show ${view.hidden.length} hidden)` : ""}
              </button>
            )}
          </p>
          {pcMetric && (
            <section className="section">
              <h2>Parallel coordinates</h2>
              <label>
                Metric{" "}
                <select aria-label="parallel coordinates metric" value={pcMetric} onChange={(e) => setView({ ...view, pc: e.target.value })}>
                  {metricKeys.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
              <RunsParallelCoords runs={runs} metric={pcMetric} goal={lowerIsBetter(pcMetric) ? "minimize" : "maximize"} />
            </section>
          )}
        </>
      )}
    </>
  );
}
