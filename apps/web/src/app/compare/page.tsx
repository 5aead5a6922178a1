"use client";
import { isSystemKey, type Series } from "@heron/core";
import { useEffect, useMemo, useState } from "react";

import { ChartGrid } from "../../components/chart-grid";
import { ChartToolbar } from "../../components/chart-toolbar";
import { ConfigDiff } from "../../components/config-diff";
import { MetricChart, type StepRange } from "../../components/metric-chart";
import { useLivePoints } from "../../components/use-live-points";
import { api, callOptional, errorMessage } from "../../lib/api";
import { type ChartSettings, DEFAULT_SETTINGS, groupKeys } from "../../lib/chart-data";
import { colorAt } from "../../lib/colors";

type RunInfo = Awaited<ReturnType<typeof api.run.get.query>>;
type CompareAnswer = { runId?: string; series?: Series } & Partial<Series>;

/** The compare endpoint answers one series per run; accept both `{runId, series}` and `Series & {runId}`. */
function normalize(answer: CompareAnswer[], runIds: string[]): Record<string, Series> {
  const out: Record<string, Series> = {};
  answer.forEach((a, i) => {
    const s = (a.series ?? a) as Series;
    out[a.runId ?? s.runId ?? runIds[i]!] = s;
  });
  return out;
}

export default function ComparePage() {
  const [runIds, setRunIds] = useState<string[] | null>(null);
  const [runs, setRuns] = useState<RunInfo[] | null>(null);
  const [data, setData] = useState<Record<string, Record<string, Series>>>({});
  const [error, setError] = useState<string | null>(null);
  const [settings, setSettings] = useState<ChartSettings>(DEFAULT_SETTINGS);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  const [distill, setDistill] = useState<unknown>(null);
  const [zoom, setZoom] = useState<Record<string, StepRange>>({});

  useEffect(() => {
    const ids = (new URLSearchParams(window.location.search).get("runs") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    setRunIds([...new Set(ids)].slice(0, 50));
  }, []);

  useEffect(() => {
    if (!runIds?.length) return;
    Promise.all(runIds.map((runId) => api.run.get.query({ runId }))).then(setRuns, (e) => setError(errorMessage(e)));
    // rendered only when the distillation procedure exists and the runs form a distill group
    callOptional("run.compareTable", { runIds }).then(setDistill, () => setDistill(null));
  }, [runIds]);

  const [reloadTick, setReloadTick] = useState(0);
  // running runs stream their new points into the overlay; a reconnect refetches everything
  const runningIds = useMemo(() => (runs ?? []).filter((r) => r.status === "running").map((r) => r.id), [runs]);
  // stored data is read once the running runs' subscriptions are confirmed (see useLivePoints)
  const { live, ready } = useLivePoints(runningIds, { onReconnect: () => setReloadTick((n) => n + 1) });

  const keys = useMemo(() => (runs ? [...new Set(runs.flatMap((r) => r.keys))].filter((k) => !isSystemKey(k)).sort() : []), [runs]);
  useEffect(() => {
    if (!runIds || !keys.length || !ready) return;
    // one batched HTTP request for every key
    Promise.all(
      keys.map((key) => api.metric.compare.query({ runIds, key, maxPoints: 1000 }).then((a) => [key, normalize(a as CompareAnswer[], runIds)] as const)),
    ).then(
      (pairs) => setData(Object.fromEntries(pairs)),
      (e) => setError(errorMessage(e)),
    );
  }, [runIds, keys, reloadTick, ready]);

  // zoom: every run queried over the same step range, so their buckets share boundaries
  const onZoom = (key: string, range: StepRange | null, byRun?: Record<string, StepRange>) => {
    if (!runIds || !runs) return;
    setZoom((z) => {
      const next = { ...z };
      if (range) next[key] = range;
      else delete next[key];
      return next;
    });
    // a time-axis zoom maps the window to each run's own steps (byRun); a run with no point in it keeps the union
    const ids = runs.filter((r) => r.keys.includes(key)).map((r) => r.id);
    const load = range
      ? Promise.all(
          ids.map((runId) => api.metric.series.query({ runId, key, maxPoints: 1000, ...(byRun?.[runId] ?? range) }).then((s) => [runId, s] as const)),
        ).then((pairs) => Object.fromEntries(pairs))
      : api.metric.compare.query({ runIds, key, maxPoints: 1000 }).then((a) => normalize(a as CompareAnswer[], runIds));
    load.then(
      (byRun) => setData((d) => ({ ...d, [key]: byRun })),
      (e) => setError(errorMessage(e)),
    );
  };

  if (runIds && runIds.length < 2)
    return (
      <p className="muted">
        Pick at least two runs to compare: select them in a project&apos;s runs table and press “Compare”. <a href="/">Projects</a>
      </p>
    );
  if (error)
    return (
      <p className="error" role="alert">
        {error}. Some of these runs may have been deleted; go back to the <a href="/">projects</a>.
      </p>
    );
  if (!runs) return <p className="muted">Loading…</p>;
  const project = runs[0]?.projectName;
  return (
    <>
      <p className="crumbs">{project && <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a>} / compare</p>
      <h1>Compare {runs.length} runs</h1>
      <div className="legend-row" data-testid="compare-legend">
        {runs.map((r, i) => (
          <a key={r.id} href={`/runs/${r.id}`} className="legend-item">
            <i style={{ background: colorAt(i) }} />
            {r.name} <span className={`status status-${r.status}`}>{r.status}</span>
          </a>
        ))}
      </div>
      <ChartToolbar settings={settings} onChange={setSettings} />
      {keys.length === 0 && <p className="muted">These runs have no metrics yet.</p>}
      <ChartGrid
        sections={groupKeys(keys)}
        collapsed={collapsed}
        onToggle={(section) => setCollapsed((c) => ({ ...c, [section]: !c[section] }))}
        renderChart={(k) => (
          <MetricChart
            key={k}
            title={k}
            settings={settings}
            zoomed={!!zoom[k]}
            onZoom={(r, byRun) => onZoom(k, r, byRun)}
            lines={runs
              .filter((r) => r.keys.includes(k))
              .map((r) => ({
                id: r.id,
                label: r.name,
                color: colorAt(runs.indexOf(r)),
                series: data[k]?.[r.id] ?? null,
                live: zoom[k] ? undefined : live[r.id]?.[k],
                startTs: new Date(r.createdAt).getTime(),
              }))}
          />
        )}
      />
      <h2>Config</h2>
      <ConfigDiff runs={runs.map((r, i) => ({ id: r.id, name: r.name, color: colorAt(i), config: r.config }))} />
      {isDistillTable(distill) && (
        <>
          <h2>Distillation</h2>
          <DistillTable table={distill} />
        </>
      )}
    </>
  );
}

type DistillRow = {
  runId: string;
  name: string;
  status: string;
  method: string;
  model: string | null;
  accuracy: number | null;
  params: number | null;
  trainableParams: number | null;
};
type DistillTableData = { group: string | null; teacher: { model: string | null; accuracy: number | null; params: number | null } | null; rows: DistillRow[] };

/**
 * Shown only when run.compareTable exists and the runs include distillation runs (the server
 * fills `teacher` exactly then; plain training and SDK runs have none).
 */
function isDistillTable(v: unknown): v is DistillTableData {
  const t = v as DistillTableData | null;
  return !!t && Array.isArray(t.rows) && !!t.teacher;
}

const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(2)}%`);
const count = (v: number | null) => (v === null ? "—" : v.toLocaleString("en-US"));

/** Seed 003's closing table: the teacher, then one row per run (method, student, accuracy, sizes). */
function DistillTable({ table }: { table: DistillTableData }) {
  return (
    <div className="table-scroll">
      <table data-testid="distill-table">
        <thead>
          <tr>
            <th>run</th>
            <th>method</th>
            <th>model</th>
            <th className="num">test accuracy</th>
            <th className="num">params</th>
            <th className="num">trainable params</th>
          </tr>
        </thead>
        <tbody>
          {table.teacher && (
            <tr className="diff">
              <td>teacher</td>
              <td>—</td>
              <td>{table.teacher.model ?? "—"}</td>
              <td className="num">{pct(table.teacher.accuracy)}</td>
              <td className="num">{count(table.teacher.params)}</td>
              <td className="num">—</td>
            </tr>
          )}
          {table.rows.map((r) => (
            <tr key={r.runId}>
              <td>
                <a href={`/runs/${r.runId}`}>{r.name}</a>
              </td>
              <td>{r.method}</td>
              <td>{r.model ?? "—"}</td>
              <td className="num">{pct(r.accuracy)}</td>
              <td className="num">{count(r.params)}</td>
              <td className="num">{count(r.trainableParams)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
