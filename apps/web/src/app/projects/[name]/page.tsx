"use client";
import { use } from "react";
import { api } from "../../../lib/api";
import { useQuery } from "../../../components/use-query";
import { formatDate, formatDuration, formatNumber } from "../../../lib/format";

export default function ProjectPage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = use(params);
  const project = decodeURIComponent(name);
  const { data: runs, error } = useQuery(() => api.run.list.query({ projectId: project }), [project], 3000);
  const keys = runs ? [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].filter((k) => !k.startsWith("sys/")).sort() : [];
  return (
    <>
      <h1>{project}</h1>
      {error && <p className="error">{error}</p>}
      {runs && runs.length === 0 && <p className="muted">No runs yet. Submit a job from the Jobs page or log one with the SDK.</p>}
      {runs && runs.length > 0 && (
        <div style={{ overflowX: "auto" }}>
          <table data-testid="runs-table">
            <thead>
              <tr>
                <th>Name</th><th>Status</th><th>Created</th><th>Duration</th>
                {keys.map((k) => <th key={k}>{k}</th>)}
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td><a href={`/runs/${r.id}`}>{r.name}</a></td>
                  <td className={`status status-${r.status}`}>{r.status}</td>
                  <td>{formatDate(r.createdAt)}</td>
                  <td>{formatDuration(r.durationMs)}</td>
                  {keys.map((k) => <td key={k}>{formatNumber(r.metrics[k]?.last)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
