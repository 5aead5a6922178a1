"use client";
import { useState } from "react";

import { useQuery } from "../../components/use-query";
import { api, errorMessage } from "../../lib/api";
import { formatDate } from "../../lib/format";

/** The caller's API keys: create (shown once), list, revoke. */
export function ApiKeysPanel() {
  const keys = useQuery(() => api.apiKey.list.query(), []);
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"read" | "write" | "admin">("write");
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="card">
      <h2>API keys</h2>
      <p className="muted small">
        For scripts and the SDK (<code>HERON_API_KEY</code>). A key acts as you, limited by its scope: read (dashboards, exports), write (log runs, submit
        jobs), admin (manage keys and members).
      </p>
      <form
        className="toolbar"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const k = await api.apiKey.create.mutate({ name, scope });
            setCreated(k.key);
            setName("");
            keys.reload();
          } catch (err) {
            setError(errorMessage(err));
          }
        }}
      >
        <input aria-label="key name" placeholder="key name" value={name} onChange={(e) => setName(e.target.value)} />
        <select aria-label="key scope" value={scope} onChange={(e) => setScope(e.target.value as typeof scope)}>
          <option value="read">read</option>
          <option value="write">write</option>
          <option value="admin">admin</option>
        </select>
        <button className="primary" type="submit">
          Create key
        </button>
      </form>
      {created && (
        <p className="ok" role="status">
          New key (shown once, copy it now): <code data-testid="new-key">{created}</code>
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {keys.data && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Scope</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td className="mono">{k.prefix}…</td>
                <td>{k.scope}</td>
                <td>{formatDate(k.createdAt)}</td>
                <td>{k.lastUsedAt ? formatDate(k.lastUsedAt) : "never"}</td>
                <td>{k.expiresAt ? formatDate(k.expiresAt) : "—"}</td>
                <td>
                  {k.revokedAt ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <button
                      onClick={async () => {
                        if (confirm(`Revoke key "${k.name}"? Scripts using it stop at once.`)) {
                          await api.apiKey.revoke.mutate({ id: k.id });
                          keys.reload();
                        }
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
