import type { ViewState } from "../server/services/views";

const VIEWS = ["active", "all", "archived", "trash"] as const;
const list = (raw: string | null) => (raw ? raw.split(",").filter(Boolean).map(decodeURIComponent) : undefined);
// only the separators (and %) are escaped here: URLSearchParams encodes the rest once
const enc = (xs: string[]) => xs.map((k) => k.replace(/[%,;]/g, encodeURIComponent)).join(",");

/**
 * The runs table's state in the project page's URL (shareable, kept on reload): `q`, `status`,
 * `tag`, `cfg` + `cfgv` (filters), `sort=<column>:<1|-1>`, `cols` (chosen columns), `which`
 * (archived, all, trash), `pinned`, and `runs` (the selection, shared with the charts page).
 * Grouping (`by`) and chart settings are read by lib/charts-view.ts from the same query.
 */
export function tableViewFromParams(p: URLSearchParams): ViewState {
  const s: ViewState = {};
  const f = { text: p.get("q"), status: p.get("status"), tag: p.get("tag"), configKey: p.get("cfg"), configValue: p.get("cfgv") };
  const filters = Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as ViewState["filters"];
  if (filters && Object.keys(filters).length) s.filters = filters;
  const sort = /^(.+):(-?1)$/.exec(p.get("sort") ?? "");
  if (sort) s.sort = { col: sort[1]!, dir: sort[2] === "1" ? 1 : -1 };
  const cols = list(p.get("cols"));
  if (cols) s.columns = cols;
  const which = p.get("which") as ViewState["view"] | null;
  if (which && (VIEWS as readonly string[]).includes(which)) s.view = which;
  const pinned = list(p.get("pinned"));
  if (pinned) s.pinned = pinned;
  const selected = list(p.get("runs"));
  if (selected) s.selected = selected;
  return s;
}

/** writes the table part of `s` into `p` (in place), dropping what is empty or default */
export function tableViewToParams(s: ViewState, p: URLSearchParams): URLSearchParams {
  const set = (name: string, v: string | null | undefined) => (v ? p.set(name, v) : p.delete(name));
  set("q", s.filters?.text);
  set("status", s.filters?.status);
  set("tag", s.filters?.tag);
  set("cfg", s.filters?.configKey);
  set("cfgv", s.filters?.configKey ? s.filters.configValue : null);
  set("sort", s.sort && !(s.sort.col === "created" && s.sort.dir === -1) ? `${s.sort.col}:${s.sort.dir}` : null);
  set("cols", s.columns ? enc(s.columns) : null);
  set("which", s.view && s.view !== "active" ? s.view : null);
  set("pinned", s.pinned?.length ? enc(s.pinned) : null);
  set("runs", s.selected?.length ? enc(s.selected) : null);
  return p;
}
