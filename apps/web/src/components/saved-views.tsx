"use client";
import { useEffect, useRef, useState } from "react";

import { api, errorMessage } from "../lib/api";
import type { ViewState } from "../server/services/views";
import { useQuery } from "./use-query";

export type { ViewState } from "../server/services/views";
/** a view to apply to the runs table; `seq` changes each time one is chosen (applying the same view twice re-applies it) */
export type AppliedView = { state: ViewState; seq: number };

/**
 * Saved views of a project: choose one to apply it, save the current table as a new view, make
 * one the project's default (applied when the page opens) or delete it.
 */
export function SavedViews({
  project,
  current,
  onApply,
  skipDefault = false,
}: {
  project: string;
  current: ViewState;
  onApply: (s: ViewState) => void;
  /** a link that carries its own view (a query string) opens as linked, not with the default view */
  skipDefault?: boolean;
}) {
  const views = useQuery(() => api.view.list.query({ projectId: project }), [project]);
  const [chosen, setChosen] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const openedDefault = useRef(false);
  useEffect(() => {
    const def = views.data?.find((v) => v.isDefault);
    if (!views.data || openedDefault.current) return;
    openedDefault.current = true;
    if (def && !skipDefault) {
      setChosen(def.id);
      onApply(def.state);
    }
  }, [views.data, onApply, skipDefault]);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      views.reload();
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    }
  };
  const selected = views.data?.find((v) => v.id === chosen);
  return (
    <span className="toolbar" data-testid="saved-views">
      <select
        aria-label="saved view"
        value={chosen}
        onChange={(e) => {
          setChosen(e.target.value);
          const v = views.data?.find((x) => x.id === e.target.value);
          if (v) onApply(v.state);
        }}
      >
        <option value="">saved views…</option>
        {views.data?.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
            {v.isDefault ? " (default)" : ""}
          </option>
        ))}
      </select>
      {selected && !selected.isDefault && (
        <button onClick={() => void act(() => api.view.update.mutate({ projectId: project, viewId: selected.id, isDefault: true }))}>Make default</button>
      )}
      {selected && (
        <button onClick={() => void act(() => api.view.update.mutate({ projectId: project, viewId: selected.id, state: current }))}>Update view</button>
      )}
      {selected && (
        <button
          onClick={() =>
            confirm(`Delete the view "${selected.name}"?`) &&
            void act(() => api.view.delete.mutate({ projectId: project, viewId: selected.id })).then(() => setChosen(""))
          }
        >
          Delete view
        </button>
      )}
      <input aria-label="view name" placeholder="name this view" value={name} onChange={(e) => setName(e.target.value)} />
      <button
        disabled={!name.trim()}
        onClick={() =>
          void act(async () => {
            const v = await api.view.create.mutate({ projectId: project, name, state: current });
            setChosen(v.id);
            setName("");
          })
        }
      >
        Save view
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
