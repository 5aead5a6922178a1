"use client";
import { useState } from "react";

import { useQuery } from "../components/use-query";
import { api, errorMessage } from "../lib/api";
import { formatDate } from "../lib/format";

export default function ProjectsPage() {
  const { data, error, reload } = useQuery(() => api.project.list.query(), [], 5000);
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  return (
    <>
      <h1>Projects</h1>
      {error && <p className="error">{error}</p>}
      {data && data.length === 0 && <p className="muted">No projects yet. Create one below, or log a run with the SDK — its project is created for you.</p>}
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Runs</th>
              <th>Jobs</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={`/projects/${encodeURIComponent(p.name)}`}>{p.name}</a>
                </td>
                <td>{p.runCount}</td>
                <td>{p.jobCount}</td>
                <td>{formatDate(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New project</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api.project.create.mutate({ name });
            setName("");
            setCreateError(null);
            reload();
          } catch (err) {
            setCreateError(errorMessage(err));
          }
        }}
      >
        <input aria-label="project name" placeholder="my-project" value={name} onChange={(e) => setName(e.target.value)} />{" "}
        <button type="submit">Create</button>
        {createError && <p className="error">{createError}</p>}
      </form>
    </>
  );
}
