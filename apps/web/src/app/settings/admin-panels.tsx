"use client";
import { useState } from "react";

import { useQuery } from "../../components/use-query";
import { api, errorMessage } from "../../lib/api";
import { formatDate } from "../../lib/format";

export function UsersPanel() {
  const users = useQuery(() => api.user.list.query(), []);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"user" | "admin">("user");
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <div className="card">
      <h2>Users</h2>
      <form
        className="toolbar"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const u = await api.user.create.mutate({ email, password, role });
            setMsg({ ok: true, text: `Created ${u.email}. Add them to projects from each project's Members panel.` });
            setEmail("");
            setPassword("");
            users.reload();
          } catch (err) {
            setMsg({ ok: false, text: errorMessage(err) });
          }
        }}
      >
        <input aria-label="new user email" type="email" placeholder="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        <input
          aria-label="new user password"
          type="password"
          placeholder="initial password (8+)"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <select aria-label="new user role" value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        <button className="primary" type="submit">
          Create user
        </button>
      </form>
      {msg && (
        <p className={msg.ok ? "ok" : "error"} role={msg.ok ? "status" : "alert"}>
          {msg.text}
        </p>
      )}
      {users.data && (
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.name ?? "—"}</td>
                <td>{u.role}</td>
                <td>{formatDate(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function AuditLog() {
  const audit = useQuery(() => api.audit.list.query({ limit: 200 }), [], 10_000);
  return (
    <div className="card">
      <h2>Audit log</h2>
      {audit.error && (
        <p className="error" role="alert">
          {audit.error}
        </p>
      )}
      {audit.data && (
        <table data-testid="audit-log">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Address</th>
            </tr>
          </thead>
          <tbody>
            {audit.data.map((e) => (
              <tr key={e.id}>
                <td>{formatDate(e.ts)}</td>
                <td>{e.actorLabel ?? e.actor}</td>
                <td className="mono">{e.action}</td>
                <td className="mono">{e.target ?? "—"}</td>
                <td>{e.ip ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
