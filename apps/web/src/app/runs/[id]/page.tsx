"use client";
import { isSystemKey } from "@heron/core";
import { use, useEffect, useState } from "react";

import { ChartToolbar } from "../../../components/chart-toolbar";
import { JobPanel } from "../../../components/job-panel";
import { LineageGraph } from "../../../components/lineage-graph";
import { RunCharts } from "../../../components/run-charts";
import { RunCsvLink } from "../../../components/run-csv-link";
import { RunForkDialog } from "../../../components/run-fork-dialog";
import { RunManageBar, RunNotes } from "../../../components/run-manage";
import { ImagesPanel, KeyValueTable, LogsPanel, MemoryPanel, TextPanel } from "../../../components/run-panels";
import { RunSummary } from "../../../components/run-summary";
import { Tabs } from "../../../components/tabs";
import { useQuery } from "../../../components/use-query";
import { useRunView } from "../../../components/use-run-view";
import { api, getSocket } from "../../../lib/api";
import { formatDate, formatDuration } from "../../../lib/format";
import { formatProgress } from "../../../lib/job-progress";

const TABS = [
  { id: "charts", label: "Charts" },
  { id: "config", label: "Config" },
  { id: "environment", label: "Environment" },
  { id: "logs", label: "Logs" },
  { id: "text", label: "Text" },
  { id: "images", label: "Images" },
  { id: "system", label: "System" },
  { id: "job", label: "Job" },
  { id: "memory", label: "Memory" },
  { id: "lineage", label: "Lineage" },
] as const;
type TabId = (typeof TABS)[number]["id"];

// Long because it is the run page's layout in reading order (header and status, management bar,
// summary, tabs); each tab is its own component.
export default function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  const { data: run, error, reload } = useQuery(() => api.run.get.query({ runId: id }), [id], 5000);
  // tab, chart settings and collapsed sections live in the URL (shareable, kept on reload)
  const { tab, setTab, settings, setSettings, collapsed, setCollapsed } = useRunView<TabId>(
    TABS.map((t) => t.id),
    "charts",
  );
  // "fork from here": the step from a chart's right-click, or the run's last step from the header button
  const [forking, setForking] = useState<{ step?: number } | null>(null);

  useEffect(() => {
    const socket = getSocket();
    const onStatus = (e: { runId: string }) => e.runId === id && reload();
    socket.on("run:status", onStatus);
    return () => void socket.off("run:status", onStatus);
  }, [id, reload]);

  if (error && !run)
    return (
      <p className="error" role="alert">
        {error}. Check the link, or go back to the <a href="/">projects</a>.
      </p>
    );
  if (!run) return <p className="muted">Loading…</p>;
  const end = run.finishedAt ?? run.heartbeatAt ?? run.updatedAt;
  const keys = run.keys.filter((k) => !isSystemKey(k));
  const sysKeys = run.keys.filter(isSystemKey);
  const startTs = new Date(run.createdAt).getTime();
  const env = { host: run.host ?? undefined, backend: (run.summary as Record<string, unknown> | null)?.backend, ...((run.environment as object | null) ?? {}) };
  return (
    <>
      <p className="crumbs">
        <a href={`/projects/${encodeURIComponent(run.projectName)}`}>{run.projectName}</a> / run
      </p>
      <h1>
        {run.name}{" "}
        <span className={`status-pill status-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </h1>
      <p className="muted meta">
        created {formatDate(run.createdAt)} · duration {formatDuration(new Date(end).getTime() - startTs)}
        {run.host ? ` · host ${run.host}` : ""}
        {run.group ? ` · group ${run.group}` : ""} · <RunCsvLink runId={run.id} runName={run.name} />
        {run.forkedFromRunId && (
          <span data-testid="run-forked-from">
            {" "}
            · forked from <a href={`/runs/${run.forkedFromRunId}`}>its parent run</a> at step {run.forkStep}
          </span>
        )}
        {run.jobId && !forking && (
          <>
            {" "}
            · <button onClick={() => setForking({})}>Fork from a step…</button>
          </>
        )}
      </p>
      {forking && <RunForkDialog key={forking.step ?? "last"} run={run} step={forking.step} onClose={() => setForking(null)} />}
      {run.progress && run.status === "running" && (
        <p className="meta" data-testid="run-progress">
          <progress max={run.progress.totalSteps} value={run.progress.step} /> {formatProgress(run.progress)}
        </p>
      )}
      {run.statusReason && (
        <p className="warning" data-testid="run-status-reason">
          {run.statusReason}
        </p>
      )}
      {run.error && <pre className="error">{run.error}</pre>}
      <RunManageBar run={run} onChange={reload} />
      <RunNotes run={run} onChange={reload} />
      <RunSummary metrics={run.metrics} summary={run.summary} />
      <Tabs label="run views" tabs={[...TABS]} value={tab} onChange={setTab} />
      <div role="tabpanel" className="tabpanel">
        {(tab === "charts" || tab === "system") && <ChartToolbar settings={settings} onChange={setSettings} />}
        {tab === "charts" &&
          (keys.length === 0 ? (
            <p className="muted">
              No metrics logged yet — charts appear with the first point (log with{" "}
              <code>
                run.log({"{"}&quot;train/loss&quot;: 0.1{"}"})
              </code>
              ).
            </p>
          ) : (
            <RunCharts
              runId={run.id}
              runName={run.name}
              keys={keys}
              startTs={startTs}
              settings={settings}
              onNewKey={reload}
              status={run.status}
              collapsed={collapsed}
              onCollapsedChange={setCollapsed}
              onStepContext={run.jobId ? (step) => setForking({ step }) : undefined}
            />
          ))}
        {tab === "system" &&
          (sysKeys.length === 0 ? (
            <p className="muted">
              No system metrics. Runners sample CPU, memory and GPU under <code>sys/</code> while a job runs.
            </p>
          ) : (
            <RunCharts
              runId={run.id}
              runName={run.name}
              keys={sysKeys}
              startTs={startTs}
              settings={settings}
              onNewKey={reload}
              status={run.status}
              sectionDepth={2}
              collapsed={collapsed}
              onCollapsedChange={setCollapsed}
            />
          ))}
        {tab === "config" && <KeyValueTable value={run.config} empty="No config recorded. Pass config to init() or run.config.update()." testId="run-config" />}
        {tab === "environment" && <KeyValueTable value={env} empty="No environment recorded." />}
        {tab === "logs" && <LogsPanel runId={run.id} live={run.status === "running"} />}
        {tab === "text" && <TextPanel runId={run.id} live={run.status === "running"} />}
        {tab === "images" && <ImagesPanel runId={run.id} live={run.status === "running"} />}
        {tab === "job" && <JobPanel jobId={run.jobId} />}
        {tab === "memory" && <MemoryPanel summary={run.summary} metrics={run.metrics} />}
        {tab === "lineage" && <LineageGraph runId={run.id} />}
      </div>
    </>
  );
}
