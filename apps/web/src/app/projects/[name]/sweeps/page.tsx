"use client";
import "../../../../components/sweeps.css";

import { use, useState } from "react";

import { SweepNewForm } from "../../../../components/sweep-new-form";
import { useQuery } from "../../../../components/use-query";
import { api } from "../../../../lib/api";
import { formatDate, formatNumber } from "../../../../lib/format";

export default function ProjectSweepsPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const { data: sweeps, error, reload } = useQuery(() => api.sweep.list.query({ projectId: project }), [project], 3000);
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  const [showForm, setShowForm] = useState(false);
  const role = info.data?.myRole ?? null;
  const disabledReason =
    role === "viewer"
      ? `You are a viewer of "${project}": creating a sweep needs the member role.`
      : info.data && role === null
        ? `You are not a member of "${project}".`
        : null;
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a> / Sweeps
      </p>
      <div className="sweep-head">
        <h1>Sweeps</h1>
        <button className={showForm ? undefined : "primary"} onClick={() => setShowForm(!showForm)} aria-expanded={showForm}>
          {showForm ? "Close" : "New sweep"}
        </button>
      </div>
      {showForm && (
        <div className="card">
          <h2>New sweep in {project}</h2>
          <SweepNewForm project={project} disabledReason={disabledReason} onCreated={(id) => (window.location.href = `/sweeps/${id}`)} />
        </div>
      )}
      {error && !sweeps && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {!sweeps && !error && <p className="muted">Loading…</p>}
      {sweeps && sweeps.length === 0 && <p className="muted">No sweeps in {project} yet. Start one with “New sweep”: trials run as jobs on your runners.</p>}
      {sweeps && sweeps.length > 0 && (
        <div className="table-scroll">
          <table data-testid="sweeps-table">
            <thead>
              <tr>
                <th>sweep</th>
                <th>status</th>
                <th>method</th>
                <th>metric</th>
                <th className="num">trials done / total</th>
                <th className="num">running</th>
                <th className="num">pruned</th>
                <th className="num">best</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {sweeps.map((s) => (
                <tr key={s.id} data-sweep={s.id}>
                  <td>
                    <a href={`/sweeps/${s.id}`}>{s.id.slice(-8)}</a>
                  </td>
                  <td>
                    <span className={`status-pill status-${s.status}`}>{s.status}</span>
                  </td>
                  <td>{s.method}</td>
                  <td>
                    <span className="mono">{s.metric.name}</span> <span className="muted small">({s.metric.goal})</span>
                  </td>
                  <td className="num">
                    {s.trials.completed + s.trials.pruned + s.trials.failed} / {s.totalTrials}
                  </td>
                  <td className="num">{s.trials.running}</td>
                  <td className="num">{s.trials.pruned}</td>
                  <td className="num">
                    {s.best ? s.best.runId ? <a href={`/runs/${s.best.runId}`}>{formatNumber(s.best.metric)}</a> : formatNumber(s.best.metric) : "—"}
                  </td>
                  <td>{formatDate(s.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
