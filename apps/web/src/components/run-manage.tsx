"use client";
import "./run-manage.css";

import { useState } from "react";

import { api } from "../lib/api";
import { Markdown } from "./markdown";

type ManagedRun = { id: string; name: string; tags: unknown; notes: string | null; archivedAt: Date | string | null; deletedAt: Date | string | null };

const tagList = (tags: unknown) => (Array.isArray(tags) ? tags.map(String) : []);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Rename a run, add/remove its tags, archive it, move it to the trash or restore it. */
export function RunManageBar({ run, onChange }: { run: ManagedRun; onChange: () => void }) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newTag, setNewTag] = useState("");
  const [error, setError] = useState<string | null>(null);
  const tags = tagList(run.tags);
  const act = (fn: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await fn();
      onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const saveName = act(async () => {
    await api.run.update.mutate({ runId: run.id, name: renaming ?? run.name });
    setRenaming(null);
  });
  const addTag = act(async () => {
    const t = newTag.trim();
    if (!t) return;
    await api.run.update.mutate({ runId: run.id, tags: [...tags, t] });
    setNewTag("");
  });
  return (
    <div className="run-manage" data-testid="run-manage">
      <div className="toolbar wrap-row">
        {renaming === null ? (
          <button onClick={() => setRenaming(run.name)} disabled={!!run.deletedAt}>
            Rename
          </button>
        ) : (
          <form className="inline-form" onSubmit={(e) => (e.preventDefault(), void saveName())}>
            <input aria-label="run name" value={renaming} onChange={(e) => setRenaming(e.target.value)} autoFocus />
            <button type="submit" className="primary">
              Save name
            </button>
            <button type="button" onClick={() => setRenaming(null)}>
              Cancel
            </button>
          </form>
        )}
        <span className="tags" data-testid="run-tags">
          {tags.map((t) => (
            <span key={t} className="tag">
              {t}{" "}
              <button
                className="link"
                aria-label={`remove tag ${t}`}
                onClick={act(() => api.run.update.mutate({ runId: run.id, tags: tags.filter((x) => x !== t) }))}
              >
                ×
              </button>
            </span>
          ))}
        </span>
        {!run.deletedAt && (
          <form className="inline-form" onSubmit={(e) => (e.preventDefault(), void addTag())}>
            <input aria-label="new tag" placeholder="add tag…" value={newTag} onChange={(e) => setNewTag(e.target.value)} size={10} />
            <button type="submit">Add tag</button>
          </form>
        )}
        <span className="spacer" />
        {run.archivedAt ? (
          <button onClick={act(() => api.run.unarchive.mutate({ runIds: [run.id] }))}>Unarchive</button>
        ) : (
          <button onClick={act(() => api.run.archive.mutate({ runIds: [run.id] }))}>Archive</button>
        )}
        {run.deletedAt ? (
          <button className="primary" onClick={act(() => api.run.restore.mutate({ runIds: [run.id] }))}>
            Restore from trash
          </button>
        ) : (
          <button
            className="danger"
            onClick={() =>
              window.confirm(`Move run "${run.name}" to the trash? It can be restored until the trash is emptied.`) &&
              void act(() => api.run.delete.mutate({ runIds: [run.id] }))()
            }
          >
            Move to trash
          </button>
        )}
      </div>
      {run.deletedAt && (
        <p className="warning" role="status" data-testid="run-trashed">
          This run is in the trash (since {new Date(run.deletedAt).toLocaleString()}).
        </p>
      )}
      {run.archivedAt && !run.deletedAt && <p className="muted small">Archived: hidden from the runs table unless “archived” is chosen.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The run's notes as markdown (rendered without raw HTML), editable in place. */
export function RunNotes({ run, onChange }: { run: ManagedRun; onChange: () => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setError(null);
    try {
      await api.run.update.mutate({ runId: run.id, notes: draft ?? "" });
      setDraft(null);
      onChange();
    } catch (e) {
      setError(errorText(e));
    }
  };
  if (draft !== null)
    return (
      <section className="run-notes">
        <textarea
          aria-label="run notes"
          rows={6}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="Markdown: # heading, **bold**, - lists, `code`, [links](https://…)"
        />
        <div className="toolbar">
          <button className="primary" onClick={() => void save()}>
            Save notes
          </button>
          <button onClick={() => setDraft(null)}>Cancel</button>
        </div>
        {error && <p className="error">{error}</p>}
      </section>
    );
  return (
    <section className="run-notes">
      {run.notes && <Markdown text={run.notes} testId="run-notes" />}
      {!run.deletedAt && (
        <button className="link" onClick={() => setDraft(run.notes ?? "")}>
          {run.notes ? "Edit notes" : "Add notes"}
        </button>
      )}
    </section>
  );
}
