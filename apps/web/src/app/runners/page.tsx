"use client";
import { useState } from "react";

import { useQuery } from "../../components/use-query";
import { api, errorMessage } from "../../lib/api";
import { formatBytes, formatDate } from "../../lib/format";

/** Seconds since a heartbeat, for "12 s ago" (the runner beats every few seconds). */
function ago(d: Date | string | null): string {
  if (!d) return "never";
  const s = Math.max(0, Math.round((Date.now() - new Date(d).getTime()) / 1000));
  return s < 90 ? `${s} s ago` : formatDate(d);
}

/** Registers a runner: the token is shown once (only its hash is stored), with the command to start it. */
function NewRunner({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="card"
      onSubmit={(e) => {
        e.preventDefault();
        api.runner.createToken.mutate({ name: name.trim() || "runner" }).then(
          (r) => (setToken(r.token), setError(null), onCreated()),
          (err) => setError(errorMessage(err)),
        );
      }}
    >
      <h2>Add a runner</h2>
      <div className="toolbar">
        <label>
          name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="gpu-box-1" aria-label="runner name" />
        </label>
        <button type="submit">Create token</button>
        {error && <span className="error">{error}</span>}
      </div>
      {token && (
        <p>
          Start it on the host (the token is shown only once):
          <br />
          <code className="mono" data-testid="runner-command">
            npm run runner -- --server {typeof window === "undefined" ? "" : window.location.origin} --token {token}
          </code>
        </p>
      )}
    </form>
  );
}

export default function RunnersPage() {
  const { data: runners, error, reload } = useQuery(() => api.runner.list.query(), [], 3000);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  return (
    <>
      <h1>Runners</h1>
      {error && (
        <p className="error" role="alert">
          {error}. <button onClick={reload}>Retry</button>
        </p>
      )}
      {revokeError && <p className="error">{revokeError}</p>}
      {runners && runners.length === 0 && (
        <p className="muted">
          No runners yet. Create a token below and start a runner on a machine with <code>npm run runner -- --server URL --token T</code>; queued jobs wait
          until one connects.
        </p>
      )}
      {runners && runners.length > 0 && (
        <div className="table-scroll">
          <table data-testid="runners-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Host</th>
                <th className="num">Slots busy / free</th>
                <th>Queues</th>
                <th>Backend</th>
                <th className="num">CPUs</th>
                <th className="num">Memory</th>
                <th>GPUs</th>
                <th>Last heartbeat</th>
                <th>
                  <span className="sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runners.map((r) => {
                const gpus = Array.isArray(r.gpus) ? (r.gpus as { name: string; memoryBytes?: number }[]) : [];
                const queues = Array.isArray(r.queues) ? (r.queues as string[]) : ["default"];
                return (
                  <tr key={r.id}>
                    <td>{r.name}</td>
                    <td>
                      <span className={`status-pill status-${r.status === "online" ? "succeeded" : r.status === "draining" ? "stale" : "lost"}`}>
                        {r.status}
                      </span>
                    </td>
                    <td>{r.hostname ?? "—"}</td>
                    <td className="num">
                      {r.busySlots} / {Math.max(0, r.slots - r.busySlots)}
                    </td>
                    <td>
                      {queues.map((q) => (
                        <span key={q} className="tag">
                          {q}
                        </span>
                      ))}
                    </td>
                    <td>{r.backend ?? "—"}</td>
                    <td className="num">{r.cpus ?? "—"}</td>
                    <td className="num">{formatBytes(r.memoryBytes)}</td>
                    <td>{gpus.length ? gpus.map((g) => `${g.name}${g.memoryBytes ? ` (${formatBytes(g.memoryBytes)})` : ""}`).join(", ") : "none"}</td>
                    <td title={r.lastHeartbeatAt ? formatDate(r.lastHeartbeatAt) : undefined}>{ago(r.lastHeartbeatAt)}</td>
                    <td>
                      <button
                        aria-label={`revoke ${r.name}`}
                        onClick={() =>
                          confirm(`Revoke runner ${r.name}? Its token stops working at once.`) &&
                          api.runner.revoke.mutate({ runnerId: r.id }).then(
                            () => (setRevokeError(null), reload()),
                            (e) => setRevokeError(errorMessage(e)),
                          )
                        }
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <NewRunner onCreated={reload} />
    </>
  );
}
