"use client";
import { type GroupBy, groupRuns } from "@heron/core";
import { type ReactNode, useMemo, useState } from "react";

import type { RunRow } from "./run-columns";
import { type LoadGroup, type RunGroups, ServerGroups } from "./runs-table-groups";

/** rows drawn at first, and per "Show more": a 10,000-run project draws 200 rows, not 10,000 */
export const PAGE_ROWS = 200;

function Capped({ rows, renderRow, cols }: { rows: RunRow[]; renderRow: (r: RunRow) => ReactNode; cols: number }) {
  const [limit, setLimit] = useState(PAGE_ROWS);
  return (
    <>
      {rows.slice(0, limit).map(renderRow)}
      {rows.length > limit && (
        <tr className="more-row">
          <td colSpan={cols}>
            <button className="link" onClick={() => setLimit((l) => l + PAGE_ROWS)} data-testid="more-rows">
              Show {Math.min(PAGE_ROWS, rows.length - limit)} more ({rows.length - limit} not shown)
            </button>
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * The runs table's rows: the pinned runs first, then all of the page's (200 at a time), or
 * folded into groups (by tag, job group or a config value) that expand and collapse, each
 * with its count. With `groups` (run.groups) the fold covers every run the filters keep and
 * each group reads its runs from the server (runs-table-groups.tsx); without, it folds the
 * rows given. A run with several tags appears in each tag's group.
 */
export function RunsTableBody({
  pinned = [],
  rows,
  by,
  groups,
  loadGroup,
  onGroupRows,
  cols,
  renderRow,
}: {
  pinned?: RunRow[];
  rows: RunRow[];
  by: GroupBy | null;
  groups?: RunGroups | null;
  loadGroup?: LoadGroup;
  /** rows an opened group read from the server */
  onGroupRows?: (rows: RunRow[]) => void;
  cols: number;
  renderRow: (r: RunRow) => ReactNode;
}) {
  const local = useMemo(() => (by && !loadGroup ? groupRuns(rows, by) : null), [rows, by, loadGroup]);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const body = () => {
    if (by && loadGroup)
      return groups ? (
        <ServerGroups groups={groups} load={loadGroup} onRows={onGroupRows} cols={cols} renderRow={renderRow} />
      ) : (
        <tr className="more-row">
          <td colSpan={cols} className="muted">
            Folding the runs…
          </td>
        </tr>
      );
    if (!local) return <Capped rows={rows} renderRow={renderRow} cols={cols} />;
    return local.map((g) => (
      <GroupRows
        key={g.name}
        name={g.name}
        runs={g.runs}
        open={!!open[g.name]}
        toggle={() => setOpen((o) => ({ ...o, [g.name]: !o[g.name] }))}
        cols={cols}
        renderRow={renderRow}
      />
    ));
  };
  return (
    <>
      {pinned.map(renderRow)}
      {body()}
    </>
  );
}

function GroupRows({
  name,
  runs,
  open,
  toggle,
  cols,
  renderRow,
}: {
  name: string;
  runs: RunRow[];
  open: boolean;
  toggle: () => void;
  cols: number;
  renderRow: (r: RunRow) => ReactNode;
}) {
  return (
    <>
      <tr className="group-row" data-group={name} data-count={runs.length}>
        <td colSpan={cols}>
          <button className="link" aria-expanded={open} onClick={toggle}>
            {open ? "▾" : "▸"} {name}
          </button>{" "}
          <span className="muted">
            {runs.length} run{runs.length === 1 ? "" : "s"}
          </span>
        </td>
      </tr>
      {open && <Capped rows={runs} renderRow={renderRow} cols={cols} />}
    </>
  );
}
