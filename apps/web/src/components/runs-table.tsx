"use client";
import type { GroupBy } from "@heron/core";
import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";

import { colorAt } from "../lib/colors";
import { downloadText, toCsv } from "../lib/csv";
import { type Column, type RunRow, STATUSES, tagsOf, useRunColumns } from "./run-columns";
import { RunsTableBody } from "./runs-table-body";
import type { LoadGroup, RunGroups } from "./runs-table-groups";
import type { AppliedView, ViewState } from "./saved-views";

export type { RunRow } from "./run-columns";

function usePins(project: string) {
  const storageKey = `heron.pins.${project}`;
  const [pins, setPins] = useState<string[]>([]);
  useEffect(() => setPins(JSON.parse(localStorage.getItem(storageKey) ?? "[]") as string[]), [storageKey]);
  const set = (next: string[]) => {
    setPins(next);
    localStorage.setItem(storageKey, JSON.stringify(next));
  };
  const toggle = (id: string) => set(pins.includes(id) ? pins.filter((p) => p !== id) : [...pins, id]);
  return { pins, toggle, set };
}

/** what run.facets answers: the project's tags, config keys (with values) and metric keys */
export type RunFacets = { tags: string[]; configKeys: { key: string; distinct: number; values: string[] }[]; metricKeys: string[] };

/** page sizes the table offers (run.page answers at most 500) */
export const PAGE_SIZES = [25, 50, 100, 200, 500];

/** the column ids run.page sorts on (tags are not sortable) */
export const serverSortable = (col: string) => /^(name|created|status|duration|group|host)$|^(config|summary):.|^metric:.+:(last|min|max)$/.test(col);

/**
 * One page of the project's runs, filtered, sorted and counted on the server (run.page): the
 * filters (text, status, tag, config value) and the sort are reported through `onViewChange`
 * and the parent asks for the matching page; pages of `pageSize` runs. Choose columns (config
 * values, metric last/min/max), pin runs to the top of every page (the parent asks run.page for
 * them: `pinnedRows`), fold the runs into groups (run.groups), export the page as CSV, and
 * select runs to compare.
 */
// Long because it is one table's markup — filter bar, column chooser, pager, header and rows —
// over one set of filter/sort/selection state; the column and row logic live in run-columns.tsx.
export function RunsTable({
  project,
  runs,
  total,
  offset = 0,
  pageSize = runs.length,
  onPage,
  onPageSize,
  facets,
  actions,
  applied,
  onViewChange,
  by = null,
  pinnedRows = [],
  pinnedOutside = [],
  groups,
  loadGroup,
}: {
  project: string;
  /** the page's runs, in the server's order */
  runs: RunRow[];
  /** how many runs match the filters (all pages) */
  total: number;
  offset?: number;
  pageSize?: number;
  onPage?: (offset: number) => void;
  onPageSize?: (n: number) => void;
  /** tags, config keys and values to filter on (the page's own when absent) */
  facets?: RunFacets | null;
  /** fold the rows into groups (tag, job group, config value) */
  by?: GroupBy | null;
  /** the pinned runs, on top of every page (run.page's `pinnedRows`; not among `runs`) */
  pinnedRows?: RunRow[];
  /** pinned runs the filters would hide (shown, marked) */
  pinnedOutside?: string[];
  /** the groups of every filtered run (run.groups) and how to read one's runs; without, `by` folds the page */
  groups?: RunGroups | null;
  loadGroup?: LoadGroup;
  /** a saved view to apply (saved-views.tsx) */
  applied?: AppliedView | null;
  /** the table's filters, sort, columns and pins, for saving as a view and for the server query */
  onViewChange?: (s: ViewState) => void;
  /** bulk actions over the selected run ids (run-bulk-actions.tsx); `shown`: every row the table holds (page, pinned, opened groups) */
  actions?: (selected: string[], clear: () => void, shown: RunRow[]) => ReactNode;
}) {
  const { pins, toggle: togglePin, set: setPins } = usePins(project);
  // pinned runs first, in pin order: the server's pinnedRows, or the page's row of a run pinned
  // a moment ago (before the next answer); the page's runs without them after
  const pinnedFirst = useMemo(() => {
    const known = new Map([...runs, ...pinnedRows].map((r) => [r.id, r]));
    return pins.map((id) => known.get(id)).filter((r): r is RunRow => r !== undefined);
  }, [runs, pinnedRows, pins]);
  const rest = useMemo(() => runs.filter((r) => !pins.includes(r.id)), [runs, pins]);
  const rows = useMemo(() => [...pinnedFirst, ...rest], [pinnedFirst, rest]);
  // rows of opened groups (folded table), newest read of each: selected there, bulk actions reach them
  const [groupRows, setGroupRows] = useState<ReadonlyMap<string, RunRow>>(new Map());
  const onGroupRows = useCallback((read: RunRow[]) => setGroupRows((m) => new Map([...m, ...read.map((r) => [r.id, r] as const)])), []);
  const shown = useMemo(() => [...new Map([...groupRows, ...rows.map((r) => [r.id, r] as const)]).values()], [groupRows, rows]);
  const { configs, configKeys, allColumns, defaults } = useRunColumns(rows);
  // a view applied before the table mounts (the URL's) is its first state, so the first report is not the defaults
  const first = applied?.state;
  const [chosen, setChosen] = useState<string[] | null>(first?.columns ?? null);
  const visible = chosen ?? defaults;
  const columns = visible.map((id) => allColumns.find((c) => c.id === id)).filter((c): c is Column => !!c);

  const [text, setText] = useState(first?.filters?.text ?? "");
  const [status, setStatus] = useState(first?.filters?.status ?? "");
  const [tag, setTag] = useState(first?.filters?.tag ?? "");
  const [cfgKey, setCfgKey] = useState(first?.filters?.configKey ?? "");
  const [cfgValue, setCfgValue] = useState(first?.filters?.configValue ?? "");
  const [sort, setSort] = useState<{ col: string; dir: 1 | -1 }>(first?.sort ?? { col: "created", dir: -1 });
  const [selected, setSelected] = useState<string[]>(first?.selected ?? []);
  const [chooserFilter, setChooserFilter] = useState("");
  useEffect(() => {
    if (!applied) return;
    const f = applied.state.filters ?? {};
    setText(f.text ?? "");
    setStatus(f.status ?? "");
    setTag(f.tag ?? "");
    setCfgKey(f.configKey ?? "");
    setCfgValue(f.configValue ?? "");
    if (applied.state.sort) setSort(applied.state.sort);
    setChosen(applied.state.columns ?? null);
    if (applied.state.pinned) setPins(applied.state.pinned);
    if (applied.state.selected) setSelected(applied.state.selected);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- applied once per choice (`seq`), not on every render of setPins
  }, [applied?.seq]);
  useEffect(() => {
    onViewChange?.({ filters: { text, status, tag, configKey: cfgKey, configValue: cfgValue }, sort, columns: chosen, pinned: pins, selected });
  }, [onViewChange, text, status, tag, cfgKey, cfgValue, sort, chosen, pins, selected]);
  const allTags = useMemo(() => facets?.tags ?? [...new Set(runs.flatMap(tagsOf))].sort(), [facets, runs]);
  const filterKeys = useMemo(() => facets?.configKeys.map((k) => k.key) ?? configKeys, [facets, configKeys]);
  const cfgValues = useMemo(() => {
    if (!cfgKey) return [];
    const known = facets?.configKeys.find((k) => k.key === cfgKey);
    if (known) return known.values;
    return [...new Set([...configs.values()].map((c) => c[cfgKey]).filter((v): v is string => v !== undefined))].sort();
  }, [cfgKey, configs, facets]);

  const toggleSort = (id: string) => serverSortable(id) && setSort((s) => (s.col === id ? { col: id, dir: s.dir === 1 ? -1 : 1 } : { col: id, dir: 1 }));
  const toggleSelect = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const toggleColumn = (id: string) => setChosen((c) => ((c ?? defaults).includes(id) ? (c ?? defaults).filter((x) => x !== id) : [...(c ?? defaults), id]));
  const exportCsv = () => {
    const header = ["id", ...columns.map((c) => c.label)];
    downloadText(`${project}-runs.csv`, toCsv([header, ...rows.map((r) => [r.id, ...columns.map((c) => c.get(r))])]));
  };
  const filtersOn = !!(text || status || tag || (cfgKey && cfgValue));
  const folded = !!(by && loadGroup);
  const outside = pinnedFirst.filter((r) => pinnedOutside.includes(r.id)).length;

  return (
    <div>
      <div className="toolbar wrap-row">
        <input
          type="search"
          placeholder="Filter runs…"
          title="words matched in name, tags, group, host and config, on the server; key=value matches one config value (e.g. lr=0.1)"
          aria-label="filter runs"
          value={text}
          onChange={(e) => setText(e.target.value)}
          style={{ minWidth: 220 }}
        />
        <select aria-label="status filter" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select aria-label="tag filter" value={tag} onChange={(e) => setTag(e.target.value)}>
          <option value="">any tag</option>
          {allTags.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <select aria-label="config filter key" value={cfgKey} onChange={(e) => (setCfgKey(e.target.value), setCfgValue(""))}>
          <option value="">config…</option>
          {filterKeys.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        {cfgKey && (
          <select aria-label="config filter value" value={cfgValue} onChange={(e) => setCfgValue(e.target.value)}>
            <option value="">any value</option>
            {cfgValues.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        )}
        {filtersOn && (
          <button className="link" onClick={() => (setText(""), setStatus(""), setTag(""), setCfgKey(""), setCfgValue(""))}>
            Clear filters
          </button>
        )}
        <span className="spacer" />
        <details className="chooser">
          <summary>Columns</summary>
          <div className="chooser-menu">
            <input
              type="search"
              placeholder="find a column…"
              aria-label="find a column"
              value={chooserFilter}
              onChange={(e) => setChooserFilter(e.target.value)}
            />
            {allColumns
              .filter((c) => c.label.toLowerCase().includes(chooserFilter.toLowerCase()))
              .map((c) => (
                <label key={c.id}>
                  <input type="checkbox" checked={visible.includes(c.id)} onChange={() => toggleColumn(c.id)} /> {c.id.startsWith("config:") ? "config " : ""}
                  {c.label}
                </label>
              ))}
          </div>
        </details>
        <button onClick={exportCsv}>Export CSV</button>
        {selected.length >= 2 ? (
          <a className="button primary" href={`/compare?runs=${selected.map(encodeURIComponent).join(",")}`} data-testid="compare-link">
            Compare {selected.length} runs
          </a>
        ) : (
          <span className="muted">Select 2+ runs to compare</span>
        )}
      </div>
      {actions?.(selected, () => setSelected([]), shown)}
      <p className="muted small pager" data-testid="runs-count">
        {folded && groups
          ? `${groups.total} runs in ${groups.groupCount} group${groups.groupCount === 1 ? "" : "s"}`
          : `${runs.length ? `${offset + 1}–${offset + runs.length}` : "0"} of ${total} runs`}
        {pinnedFirst.length ? ` · ${pinnedFirst.length} pinned on every page${outside ? ` (${outside} outside the filters)` : ""}` : ""}
        {!folded && total > runs.length && (
          <>
            {" "}
            <button className="link" disabled={offset === 0} onClick={() => onPage?.(Math.max(0, offset - pageSize))} data-testid="page-prev">
              ‹ Previous
            </button>{" "}
            <button className="link" disabled={offset + runs.length >= total} onClick={() => onPage?.(offset + pageSize)} data-testid="page-next">
              Next ›
            </button>
          </>
        )}{" "}
        {onPageSize && !folded && (
          <select aria-label="runs per page" value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n} per page
              </option>
            ))}
          </select>
        )}
      </p>
      {rows.length === 0 ? (
        <p className="muted">
          No run matches these filters.{" "}
          <button className="link" onClick={() => (setText(""), setStatus(""), setTag(""), setCfgKey(""), setCfgValue(""))}>
            Clear filters
          </button>
        </p>
      ) : (
        <div className="table-scroll">
          <table data-testid="runs-table" className="runs">
            <thead>
              <tr>
                <th>
                  <span className="sr-only">select</span>
                </th>
                <th>
                  <span className="sr-only">pin</span>
                </th>
                {columns.map((c) => (
                  <th
                    key={c.id}
                    aria-sort={sort.col === c.id ? (sort.dir === 1 ? "ascending" : "descending") : "none"}
                    className={c.numeric ? "num" : undefined}
                  >
                    {serverSortable(c.id) ? (
                      <button className="th-sort" onClick={() => toggleSort(c.id)} title={`sort by ${c.label}`}>
                        {c.label} {sort.col === c.id ? (sort.dir === 1 ? "▲" : "▼") : ""}
                      </button>
                    ) : (
                      c.label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <RunsTableBody
                pinned={pinnedFirst}
                rows={rest}
                by={by}
                groups={groups}
                loadGroup={loadGroup}
                onGroupRows={onGroupRows}
                cols={columns.length + 2}
                renderRow={(r) => {
                  const sel = selected.indexOf(r.id);
                  return (
                    <tr
                      key={r.id}
                      data-run={r.name}
                      className={pins.includes(r.id) ? "pinned" : undefined}
                      data-outside={pinnedOutside.includes(r.id) || undefined}
                      title={pinnedOutside.includes(r.id) ? "pinned: shown although the filters leave it out" : undefined}
                    >
                      <td>
                        <input type="checkbox" aria-label={`select ${r.name}`} checked={sel >= 0} onChange={() => toggleSelect(r.id)} />
                        {sel >= 0 && <i className="swatch" style={{ background: colorAt(sel) }} />}
                      </td>
                      <td>
                        <button
                          className={pins.includes(r.id) ? "pin on" : "pin"}
                          aria-pressed={pins.includes(r.id)}
                          aria-label={`pin ${r.name}`}
                          title={pins.includes(r.id) ? "unpin" : "pin to top"}
                          onClick={() => togglePin(r.id)}
                        >
                          ★
                        </button>
                      </td>
                      {columns.map((c) => (
                        <td key={c.id} className={c.numeric ? "num" : undefined}>
                          {c.render ? c.render(r) : (c.get(r) ?? "—")}
                        </td>
                      ))}
                    </tr>
                  );
                }}
              />
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
