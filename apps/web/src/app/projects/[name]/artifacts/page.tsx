"use client";
import "../../../../components/lineage.css";

import { use, useState } from "react";

import { useQuery } from "../../../../components/use-query";
import { api } from "../../../../lib/api";
import { formatBytes, formatDate } from "../../../../lib/format";

/** A project's artifacts: name, type, versions, the latest one, and where each alias points. */
export default function ProjectArtifactsPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const [type, setType] = useState("");
  const { data: artifacts, error, reload } = useQuery(() => api.artifact.list.query({ projectId: project, ...(type ? { type } : {}) }), [project, type], 5000);
  const base = `/projects/${encodeURIComponent(project)}/artifacts`;
  return (
    <>
      <p className="crumbs">
        <a href="/">Projects</a> / <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a> / Artifacts
      </p>
      <h1>Artifacts</h1>
      <p className="actions">
        <select aria-label="artifact type" value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">all types</option>
          {["model", "checkpoint", "dataset", "file"].map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </p>
      {error && !artifacts && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {!artifacts && !error && <p className="muted">Loading…</p>}
      {artifacts && artifacts.length === 0 && (
        <p className="muted">
          No artifacts{type ? ` of type ${type}` : ""} in {project} yet. Jobs that succeed log their final model here; scripts log files with{" "}
          <code>
            run.logArtifact({"{"} name, type, dir {"}"})
          </code>
          , and <code>npx heron artifact put</code> uploads from a shell.
        </p>
      )}
      {artifacts && artifacts.length > 0 && (
        <div className="table-scroll">
          <table data-testid="artifacts-table">
            <thead>
              <tr>
                <th>artifact</th>
                <th>type</th>
                <th className="num">versions</th>
                <th>latest</th>
                <th>aliases</th>
                <th className="num">size (latest)</th>
                <th>updated</th>
              </tr>
            </thead>
            <tbody>
              {artifacts.map((a) => (
                <tr key={a.id} data-artifact={a.name}>
                  <td>
                    <a href={`${base}/${encodeURIComponent(a.name)}`}>{a.name}</a>
                    {a.description ? <div className="muted small">{a.description}</div> : null}
                  </td>
                  <td>{a.type}</td>
                  <td className="num">{a.versions}</td>
                  <td>{a.latest ? `v${a.latest.version}` : "—"}</td>
                  <td>
                    {Object.entries(a.aliases)
                      .sort(([x], [y]) => x.localeCompare(y))
                      .map(([alias, v]) => (
                        <span key={alias} className="alias-pill" data-alias={alias}>
                          {alias} → {v}
                        </span>
                      ))}
                  </td>
                  <td className="num">{a.latest ? formatBytes(a.latest.bytes) : "—"}</td>
                  <td>{formatDate(a.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
