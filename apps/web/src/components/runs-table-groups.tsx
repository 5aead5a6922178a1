"use client";
import { type ReactNode, useEffect, useRef, useState } from "react";

import type { api } from "../lib/api";
import type { RunRow } from "./run-columns";

/** what run.groups answers: every group of the filtered runs (≤ 200) with its run count */
export type RunGroups = Awaited<ReturnType<typeof api.run.groups.query>>;
/** one page of a group's runs (run.page with `inGroup`) */
export type LoadGroup = (value: string | null, offset: number, limit: number) => Promise<{ runs: RunRow[]; total: number }>;

/** runs a group lists when opened, and per "Show more" */
export const GROUP_PAGE = 50;
/** the most runs one run.page answers: an open group refreshes at most this many of its rows */
const RUN_PAGE_MAX = 500;

/**
 * The folded table over every run the filters keep (run.groups), not only the page's: one row
 * per group with its count; opening a group asks the server for its runs, GROUP_PAGE at a time.
 * `load` changes with the filters and sort, `groups` with every refresh: an open group reads
 * its runs again. `onRows` hears of every row read (the table's bulk actions act on them).
 */
export function ServerGroups({
  groups,
  load,
  onRows,
  cols,
  renderRow,
}: {
  groups: RunGroups;
  load: LoadGroup;
  onRows?: (rows: RunRow[]) => void;
  cols: number;
  renderRow: (r: RunRow) => ReactNode;
}) {
  return (
    <>
      {groups.groups.map((g) => (
        <ServerGroup
          key={g.value ?? "\u0000none"}
          value={g.value}
          label={g.label}
          count={g.count}
          load={load}
          stamp={groups}
          onRows={onRows}
          cols={cols}
          renderRow={renderRow}
        />
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
  stamp,
  onRows,
  cols,
  renderRow,
}: {
  value: string | null;
  label: string;
  count: number;
  load: LoadGroup;
  stamp: unknown;
  onRows?: (rows: RunRow[]) => void;
  cols: number;
  renderRow: (r: RunRow) => ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const [runs, setRuns] = useState<RunRow[]>([]);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // the newest request wins: a refresh answered after "Show more" was asked is dropped
  const latest = useRef(0);
  const loaded = useRef(0);
  const fetchRows = (offset: number, limit: number) => {
    const seq = ++latest.current;
    return load(value, offset, limit).then(
      (p) => {
        if (seq !== latest.current) return;
        const next = offset === 0 ? p.runs : [...runs, ...p.runs];
        loaded.current = next.length;
        setRuns(next);
        setTotal(p.total);
        setError(null);
        setLoadingMore(false);
        onRows?.(p.runs);
      },
      (e: unknown) => seq === latest.current && (setError(e instanceof Error ? e.message : String(e)), setLoadingMore(false)),
    );
  };
  // opened, the filters or sort changed, or the table refreshed (`stamp`: every few seconds, and
  // after a bulk action): the rows shown so far again, so their tags and status stay current
  useEffect(() => {
    if (open) void fetchRows(0, Math.min(RUN_PAGE_MAX, Math.max(GROUP_PAGE, loaded.current)));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- read again on these changes only; `fetchRows` is new each render
  }, [open, load, stamp]);
  const more = () => {
    setLoadingMore(true);
    void fetchRows(runs.length, GROUP_PAGE);
  };
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
      {open && (error || loadingMore || runs.length < total) && (
        <tr className="more-row">
          <td colSpan={cols}>
            {error ? (
              <span className="error">{error}</span>
            ) : loadingMore ? (
              <span className="muted">Loading…</span>
            ) : (
              <button className="link" onClick={more} data-testid="group-more">
                Show {Math.min(GROUP_PAGE, total - runs.length)} more ({total - runs.length} not shown)
              </button>
            )}
          </td>
        </tr>
      )}
    </>
  );
}
