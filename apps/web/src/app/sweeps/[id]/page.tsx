"use client";
import "../../../components/sweeps.css";

import { use, useEffect, useState } from "react";

import { SweepBestChart } from "../../../components/sweep-best-chart";
import { SweepImportance } from "../../../components/sweep-importance";
import { SweepParallelCoords } from "../../../components/sweep-parallel-coords";
import { SweepTrialsTable } from "../../../components/sweep-trials-table";
import { formatParam, sweepIsLive } from "../../../components/sweep-types";
import { useQuery } from "../../../components/use-query";
import { api, errorMessage } from "../../../lib/api";
import { formatDate, formatNumber } from "../../../lib/format";

// Long because it is the sweep page's layout in reading order (header and actions, best, charts,
// importance, trials); each part is its own component.
export default function SweepPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  // polls every 2 s while trials may still change; a finished or cancelled sweep is read once
  const [live, setLive] = useState(true);
  const { data, error, reload } = useQuery(() => api.sweep.get.query({ sweepId: id }), [id], live ? 2000 : undefined);
  useEffect(() => {
    if (data) setLive(sweepIsLive(data));
  }, [data]);
  const projectId = data?.projectId ?? null;
  const project = useQuery(() => (projectId ? api.project.get.query({ project: projectId }) : Promise.resolve(null)), [projectId]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  if (!data) {
    return error ? (
      <p className="error" role="alert">
        {error}. <button onClick={reload}>Retry</button>
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  }
  const role = project.data?.myRole ?? null;
  const disabledReason =
    role === "viewer"
      ? `You are a viewer of "${project.data?.name}": pausing, resuming and cancelling a sweep needs the member role.`
      : project.data && role === null
        ? `You are not a member of "${project.data.name}".`
        : null;
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    try {
      await fn();
      setLive(true);
      reload();
    } catch (err) {
      setActionError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const done = data.trials.filter((t) => t.status !== "running").length;
  const canControl = !disabledReason && !busy;
  const name = project.data?.name;
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / {name ? <a href={`/projects/${encodeURIComponent(name)}`}>{name}</a> : "…"} /{" "}
        {name ? <a href={`/projects/${encodeURIComponent(name)}/sweeps`}>Sweeps</a> : "Sweeps"} / {id.slice(-8)}
      </p>
      <div className="sweep-head">
        <h1>
          Sweep {id.slice(-8)}{" "}
          <span className={`status-pill status-${data.status}`} data-testid="sweep-status">
            {data.status}
          </span>
        </h1>
        <span className="actions">
          {data.status === "running" && (
            <button disabled={!canControl} title={disabledReason ?? undefined} onClick={() => void act(() => api.sweep.pause.mutate({ sweepId: id }))}>
              Pause
            </button>
          )}
          {data.status === "paused" && (
            <button disabled={!canControl} title={disabledReason ?? undefined} onClick={() => void act(() => api.sweep.resume.mutate({ sweepId: id }))}>
              Resume
            </button>
          )}
          {(data.status === "running" || data.status === "paused") && (
            <button
              disabled={!canControl}
              title={disabledReason ?? undefined}
              onClick={() => {
                if (confirm(`Cancel sweep ${id.slice(-8)}? Its queued and running trials are cancelled; finished trials keep their runs.`))
                  void act(() => api.sweep.cancel.mutate({ sweepId: id }));
              }}
            >
              Cancel sweep
            </button>
          )}
        </span>
      </div>
      {disabledReason && (data.status === "running" || data.status === "paused") && (
        <p className="muted small" data-testid="controls-disabled">
          {disabledReason}
        </p>
      )}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      <p className="meta">
        <span>
          method <b>{data.sweep.method}</b>
        </span>
        <span>
          metric <b className="mono">{data.sweep.metric.name}</b> ({data.sweep.metric.goal})
        </span>
        <span data-testid="trial-progress">
          trials <b>{done}</b> / {data.totalTrials} done, {data.trials.length - done} in progress, parallel {data.sweep.parallel}
        </span>
        {data.sweep.earlyTerminate && <span>early stopping {data.sweep.earlyTerminate.type}</span>}
        <span>created {formatDate(data.createdAt)}</span>
        {error && <span className="error">refresh failed: {error}</span>}
      </p>
      {data.best && (
        <p className="card best-card" data-testid="best">
          Best: <b>{formatNumber(data.best.metric)}</b> —{" "}
          {Object.entries(data.best.params)
            .map(([k, v]) => `${k} = ${formatParam(v as never)}`)
            .join(", ")}{" "}
          {data.best.runId && <a href={`/runs/${data.best.runId}`}>run {data.best.runId.slice(-8)}</a>}
        </p>
      )}
      <div className="sweep-plots">
        <SweepBestChart trials={data.trials} metric={data.sweep.metric.name} goal={data.sweep.metric.goal} />
        <SweepImportance detail={data} />
      </div>
      <SweepParallelCoords detail={data} />
      <h2>Trials</h2>
      <SweepTrialsTable detail={data} />
    </>
  );
}
