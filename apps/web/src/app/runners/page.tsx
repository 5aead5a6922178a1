"use client";
import { api } from "../../lib/api";
import { useQuery } from "../../components/use-query";
import { formatDate } from "../../lib/format";

export default function RunnersPage() {
  const { data: runners, error } = useQuery(() => api.runner.list.query(), [], 3000);
  return (
    <>
      <h1>Runners</h1>
      {error && <p className="error">{error}</p>}
      {runners && runners.length === 0 && <p className="muted">No runners. Start one with <code>npm run runner -- --server URL --token T</code> (see the README).</p>}
      {runners && runners.length > 0 && (
        <table>
          <thead>
            <tr><th>Name</th><th>Status</th><th>Host</th><th>Slots busy/total</th><th>Backend</th><th>CPUs</th><th>GPUs</th><th>Last heartbeat</th></tr>
          </thead>
          <tbody>
            {runners.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td className={`status status-${r.status === "online" ? "running" : "stale"}`}>{r.status}</td>
                <td>{r.hostname ?? "—"}</td>
                <td>{r.busySlots}/{r.slots}</td>
                <td>{r.backend ?? "—"}</td>
                <td>{r.cpus ?? "—"}</td>
                <td>{Array.isArray(r.gpus) && r.gpus.length ? (r.gpus as { name: string }[]).map((g) => g.name).join(", ") : "none"}</td>
                <td>{r.lastHeartbeatAt ? formatDate(r.lastHeartbeatAt) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
