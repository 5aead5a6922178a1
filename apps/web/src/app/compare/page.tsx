"use client";
import { ChartGrid } from "../../components/chart-grid";
import { ChartToolbar } from "../../components/chart-toolbar";
import { ConfigDiff } from "../../components/config-diff";
import { MetricChart } from "../../components/metric-chart";
import { useCompareData } from "../../components/use-compare-data";
import { useRunView } from "../../components/use-run-view";
import { groupKeys } from "../../lib/chart-data";
import { colorAt } from "../../lib/colors";

export default function ComparePage() {
  // smoothing, x axis, log scale and collapsed sections in the URL beside `runs`, as on the run page
  const { settings, setSettings, collapsed, setCollapsed } = useRunView(["charts"] as const, "charts");
  const { runIds, runs, data, error, distill, live, keys, zoom, onZoom } = useCompareData();

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
            sync="compare"
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
