"use client";
import "./run-manage.css";

import { useState } from "react";

import { api } from "../lib/api";
import type { RunRow } from "./runs-table";

export type RunView = "active" | "archived" | "all" | "trash";
export const RUN_VIEWS: { id: RunView; label: string }[] = [
  { id: "active", label: "Active runs" },
  { id: "archived", label: "Archived" },
  { id: "all", label: "Active + archived" },
  { id: "trash", label: "Trash" },
];

const tagsOf = (r: RunRow) => (Array.isArray(r.tags) ? (r.tags as unknown[]).map(String) : []);

type Props = {
  project: string;
  view: RunView;
  runs: RunRow[];
  selected: string[];
  clear: () => void;
  reload: () => void;
  /**
   * the caller may delete, restore and empty the trash (project maintainer or admin: TRASH_ROLE
   * in server/auth/policy.ts, the role that may also read a trashed run); false hides those buttons
   */
  canManageTrash?: boolean;
  /** how many runs the view holds in all (the table shows one page of them) */
  total?: number;
};

/** What can be done to the selected runs at once: tag, archive, trash / restore, move; and emptying the trash. */
export function RunBulkActions({ project, view, runs, selected, clear, reload, canManageTrash = true, total = runs.length }: Props) {
  const [tag, setTag] = useState("");
  const [target, setTarget] = useState("");
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const chosen = runs.filter((r) => selected.includes(r.id));
  const n = chosen.length;
  const run = async (what: string, fn: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await fn();
      setMessage({ error: false, text: what });
      clear();
      reload();
    } catch (e) {
      setMessage({ error: true, text: e instanceof Error ? e.message : String(e) });
    }
  };
  const retag = (change: (tags: string[]) => string[], what: string) =>
    run(what, () => Promise.all(chosen.map((r) => api.run.update.mutate({ runId: r.id, tags: change(tagsOf(r)) }))));
  const runIds = chosen.map((r) => r.id);
  const plural = `${n} run${n === 1 ? "" : "s"}`;

  return (
    <div className="toolbar wrap-row bulk-actions" data-testid="bulk-actions">
      {n > 0 && view !== "trash" && (
        <>
          <strong>{plural} selected:</strong>
          <input aria-label="bulk tag" placeholder="tag…" value={tag} onChange={(e) => setTag(e.target.value)} size={10} />
          <button disabled={!tag.trim()} onClick={() => void retag((t) => [...t, tag.trim()], `tagged ${plural} “${tag.trim()}”`)}>
            Add tag
          </button>
          <button disabled={!tag.trim()} onClick={() => void retag((t) => t.filter((x) => x !== tag.trim()), `removed “${tag.trim()}” from ${plural}`)}>
            Remove tag
          </button>
          {view === "archived" ? (
            <button onClick={() => void run(`unarchived ${plural}`, () => api.run.unarchive.mutate({ runIds }))}>Unarchive</button>
          ) : (
            <button onClick={() => void run(`archived ${plural}`, () => api.run.archive.mutate({ runIds }))}>Archive</button>
          )}
          {canManageTrash && (
            <button
              className="danger"
              onClick={() =>
                window.confirm(`Move ${plural} to the trash? They can be restored until the trash is emptied.`) &&
                void run(`moved ${plural} to the trash`, () => api.run.delete.mutate({ runIds }))
              }
            >
              Move to trash
            </button>
          )}
          <input aria-label="move to project" placeholder="project…" value={target} onChange={(e) => setTarget(e.target.value)} size={10} />
          <button
            disabled={!target.trim()}
            onClick={() => void run(`moved ${plural} to ${target.trim()}`, () => api.run.move.mutate({ runIds, projectId: target.trim() }))}
          >
            Move
          </button>
        </>
      )}
      {n > 0 && view === "trash" && canManageTrash && (
        <button className="primary" onClick={() => void run(`restored ${plural}`, () => api.run.restore.mutate({ runIds }))}>
          Restore {plural}
        </button>
      )}
      {view === "trash" && runs.length > 0 && canManageTrash && (
        <button
          className="danger"
          onClick={() =>
            window.confirm(`Delete all ${total} runs in the trash of ${project} and their metrics for good? This cannot be undone.`) &&
            void run("emptied the trash", () => api.run.emptyTrash.mutate({ projectId: project }))
          }
        >
          Empty trash
        </button>
      )}
      {message && (
        <span className={message.error ? "error" : "muted"} role={message.error ? "alert" : "status"}>
          {message.text}
        </span>
      )}
    </div>
  );
}
