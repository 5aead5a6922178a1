"use client";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";
import { useQuery } from "./use-query";

const ROLES = ["viewer", "member", "maintainer"] as const;

/** A project's members; maintainers add people by email, change roles and remove them. */
export function MembersPanel({ project, canManage }: { project: string; canManage: boolean }) {
  const members = useQuery(() => api.project.members.query({ projectId: project }), [project]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<(typeof ROLES)[number]>("member");
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      members.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <details className="card" data-testid="members-panel">
      <summary>
        <strong>Members</strong> {members.data ? `(${members.data.length})` : ""}
      </summary>
      {members.data && (
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              {canManage && <th />}
            </tr>
          </thead>
          <tbody>
            {members.data.map((m) => (
              <tr key={m.userId}>
                <td>{m.email}</td>
                <td>
                  {canManage ? (
                    <select
                      aria-label={`role of ${m.email}`}
                      value={m.role}
                      onChange={(e) =>
                        act(() => api.project.addMember.mutate({ projectId: project, userId: m.userId, role: e.target.value as (typeof ROLES)[number] }))
                      }
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                {canManage && (
                  <td>
                    <button
                      onClick={() =>
                        confirm(`Remove ${m.email} from ${project}?`) && act(() => api.project.removeMember.mutate({ projectId: project, userId: m.userId }))
                      }
                    >
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => api.project.addMember.mutate({ projectId: project, email, role })).then(() => setEmail(""));
          }}
        >
          <input aria-label="member email" type="email" placeholder="email of a user" value={email} onChange={(e) => setEmail(e.target.value)} />
          <select aria-label="member role" value={role} onChange={(e) => setRole(e.target.value as (typeof ROLES)[number])}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit">Add member</button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}
