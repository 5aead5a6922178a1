"use client";
import { type ReactNode, useEffect, useState } from "react";

import type { api } from "../lib/api";
import type { RunRow } from "./run-columns";

/** what run.groups answers: every group of the filtered runs (≤ 200) with its run count */
export type RunGroups = Awaited<ReturnType<typeof api.run.groups.query>>;
/** one page of a group's runs (run.page with `inGroup`) */
export type LoadGroup = (value: string | null, offset: number, limit: number) => Promise<{ runs: RunRow[]; total: number }>;

/** runs a group lists when opened, and per "Show more" */
export const GROUP_PAGE = 50;

/**
 * The folded table over every run the filters keep (run.groups), not only the page's: one row
 * per group with its count; opening a group asks the server for its runs, GROUP_PAGE at a time.
 * `load` changes with the filters and sort: an open group reads its runs again.
 */
export function ServerGroups({ groups, load, cols, renderRow }: { groups: RunGroups; load: LoadGroup; cols: number; renderRow: (r: RunRow) => ReactNode }) {
  return (
    <>
      {groups.groups.map((g) => (
        <ServerGroup key={g.value ?? "\u0000none"} value={g.value} label={g.label} count={g.count} load={load} cols={cols} renderRow={renderRow} />
      ))}
      {groups.groupCount > groups.groups.length && (
        <tr className="more-row" data-testid="groups-capped">
          <td colSpan={cols} className="muted">
            Showing the {groups.groups.length} groups with the newest runs of {groups.groupCount}; filter the runs to see the others.
          </td>
        </tr>
      )}
    </>
  );
}

function ServerGroup({
  value,
  label,
  count,
  load,
  cols,
  renderRow,
}: {
  value: string | null;
  label: string;
  count: number;
  load: LoadGroup;
  cols: number;
  renderRow: (r: RunRow) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [runs, setRuns] = useState<RunRow[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const fetchFrom = (offset: number) => {
    setLoading(true);
    return load(value, offset, GROUP_PAGE).then(
      (p) => (setRuns((r) => (offset === 0 ? p.runs : [...r, ...p.runs])), setTotal(p.total), setError(null), setLoading(false)),
      (e: unknown) => (setError(e instanceof Error ? e.message : String(e)), setLoading(false)),
    );
  };
  // opened, or the filters or sort changed while open: its first page again
  useEffect(() => {
    if (open) void fetchFrom(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- read again when opened or when `load` (the filters and sort) changes
  }, [open, load]);
  return (
    <>
      <tr className="group-row" data-group={label} data-count={count}>
        <td colSpan={cols}>
          <button className="link" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? "▾" : "▸"} {label}
          </button>{" "}
          <span className="muted">
            {count} run{count === 1 ? "" : "s"}
          </span>
        </td>
      </tr>
      {open && runs.map(renderRow)}
      {open && (error || loading || runs.length < total) && (
        <tr className="more-row">
          <td colSpan={cols}>
            {error ? (
              <span className="error">{error}</span>
            ) : loading ? (
              <span className="muted">Loading…</span>
            ) : (
              <button className="link" onClick={() => void fetchFrom(runs.length)} data-testid="group-more">
                Show {Math.min(GROUP_PAGE, total - runs.length)} more ({total - runs.length} not shown)
              </button>
            )}
          </td>
        </tr>
      )}
    </>
  );
}
