import { IdSchema, MetricKeySchema } from "@heron/core";
import type { Database, MetricsStore } from "@heron/db";
import { z } from "zod";

import { flattenConfig } from "../../lib/flatten";
import { type RunListView, RunListViewSchema } from "./run-management";
import { inGroupTest, jsonAt, JsonKeySchema, rows, type Sql, sqlBuilder, sqlitePath, TableGroupBySchema, text, viewTest } from "./run-sql";

/**
 * The runs table on the server: filter (view, tag, status, text, config values), sort (name,
 * created, status, duration, group, host, any config key, any run.summary key, any metric's
 * last/min/max) and page — in SQL on SQLite and PostgreSQL alike, so a project of 10,000 runs
 * answers one page without reading the others. Only the page's rows are read in full.
 *
 * Query shape: one `SELECT id … WHERE projectId = ? AND … ORDER BY … LIMIT ? OFFSET ?` over
 * "Run" (the (projectId, createdAt) index narrows it to the project; config and tag tests read
 * the row's JSON: json_extract / json_each on SQLite, #> / @> on PostgreSQL), a LEFT JOIN on
 * "MetricSeries" by its primary key (runId, key) when the sort is a metric, and a count(*) of
 * the same WHERE. Measured at 10,000 runs in run-query.test.ts' timing line and bench/README.md.
 * Pinned runs are one more lookup by primary key, left out of the page and count queries
 * (`id NOT IN (…)`); the folded table's groups are run-groups.ts'.
 */

/** the largest page run.page answers (run.list keeps its own 5,000) */
export const RUN_PAGE_MAX = 500;

const BASE_SORTS = ["name", "created", "status", "duration", "group", "host"] as const;
type Sort =
  | { kind: "base"; col: (typeof BASE_SORTS)[number] }
  | { kind: "json"; column: "config" | "summary"; key: string }
  | { kind: "metric"; key: string; agg: "last" | "min" | "max" };

/** a sort column id as the runs table names it → what to order by; null when unknown */
export function parseSortColumn(col: string): Sort | null {
  if ((BASE_SORTS as readonly string[]).includes(col)) return { kind: "base", col: col as (typeof BASE_SORTS)[number] };
  const json = /^(config|summary):(.+)$/.exec(col);
  if (json) return JsonKeySchema.safeParse(json[2]).success ? { kind: "json", column: json[1] as "config" | "summary", key: json[2]! } : null;
  const metric = /^metric:(.+):(last|min|max)$/.exec(col);
  if (metric && MetricKeySchema.safeParse(metric[1]).success) return { kind: "metric", key: metric[1]!, agg: metric[2] as "last" | "min" | "max" };
  return null;
}

const SortSchema = z.object({
  col: z
    .string()
    .max(600)
    .superRefine((c, ctx) => {
      if (parseSortColumn(c) === null)
        ctx.addIssue({
          code: "custom",
          message: `unknown sort column "${c.slice(0, 80)}": one of ${BASE_SORTS.join(", ")}, config:<key>, summary:<key>, metric:<key>:last|min|max`,
        });
    }),
  dir: z.union([z.literal(1), z.literal(-1)]),
});

export const ConfigFilterSchema = z.object({
  key: JsonKeySchema,
  /** eq/ne compare the value as the table shows it (strings as is, anything else as JSON); the others compare numbers */
  op: z.enum(["eq", "ne", "gt", "gte", "lt", "lte"]).default("eq"),
  value: text("a config filter value", 500),
});
export type ConfigFilter = z.infer<typeof ConfigFilterSchema>;

/** run.page's input (and run.list's optional extras) */
export const RunQueryFields = {
  view: RunListViewSchema.optional(),
  tag: text("tag", 200).pipe(z.string().min(1)).optional(),
  status: text("status", 50).pipe(z.string().min(1)).optional(),
  /**
   * Words that must all match (case-insensitive) the run's name, id, group, host, tags or
   * config; a word `key=value` is a config filter instead (e.g. `lr=0.1`).
   */
  search: text("search", 200).optional(),
  config: z.array(ConfigFilterSchema).max(10, "at most 10 config filters").optional(),
  /** default: newest first */
  sort: SortSchema.optional(),
  offset: z.number().int().min(0).max(1_000_000, "offset is larger than 1,000,000").optional(),
};

/** the most runs run.page pins to the top of every page */
export const PINNED_MAX = 100;

/** one group of the folded table (run.groups): `value` as run.groups names it, null for "(none)" */
export const InGroupSchema = z.object({ by: TableGroupBySchema, value: text("a group value", 1000).nullable() });

export const RunPageSchema = z.object({
  projectId: z.string().min(1),
  ...RunQueryFields,
  limit: z.number().int().min(1, "limit must be at least 1").max(RUN_PAGE_MAX, `limit must be at most ${RUN_PAGE_MAX} (a page of the runs table)`).optional(),
  /**
   * Run ids answered apart, as `pinnedRows`, on every page and left out of the pages; ids of
   * another project, of trashed runs or outside `view` are ignored. The filters do not hide
   * them (`pinnedOutsideFilters` names those they would).
   */
  pinned: z.array(IdSchema).max(PINNED_MAX, `at most ${PINNED_MAX} pinned runs`).optional(),
  /** only the runs of one group of the folded table */
  inGroup: InGroupSchema.optional(),
});
export type RunQuery = Omit<z.infer<typeof RunPageSchema>, "projectId">;

/** LIKE pattern for a literal substring */
const likeOf = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => "\\" + c)}%`;

/** the JSON texts a shown value may be stored as: the string itself, and the value if it reads as JSON (3, true, [1,2]) */
function jsonCandidates(value: string): string[] {
  const out = [JSON.stringify(value)];
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== "string") out.push(JSON.stringify(parsed));
  } catch {
    // not JSON: only the string form
  }
  return out;
}

function configTest(q: Sql, f: ConfigFilter): string {
  const col = `r."config"`;
  if (f.op === "eq" || f.op === "ne") {
    const cands = jsonCandidates(f.value);
    const eq =
      q.provider === "postgres"
        ? `(${jsonAt(q, col, f.key)}) IN (${cands.map((c) => `${q.p(c)}::jsonb`).join(", ")})`
        : // `->` answers the element's JSON text (strings quoted, numbers as written)
          `(${jsonAt(q, col, f.key)}) IN (${cands.map((c) => q.p(c)).join(", ")})`;
    return f.op === "eq" ? eq : `NOT COALESCE(${eq}, FALSE)`;
  }
  const n = Number(f.value);
  if (!Number.isFinite(n)) return "FALSE";
  const op = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[f.op];
  const num =
    q.provider === "postgres"
      ? `CASE WHEN jsonb_typeof(${jsonAt(q, col, f.key)}) = 'number' THEN (${jsonAt(q, col, f.key, true)})::float8 END`
      : `CASE WHEN json_type(${col}, ${q.p(sqlitePath(f.key))}) IN ('integer', 'real') THEN ${jsonAt(q, col, f.key, true)} END`;
  return `${num} ${op} ${q.p(n)}`;
}

/** one search word: `key=value` is a config filter, anything else a substring of the run's text fields */
function searchTest(q: Sql, word: string): string {
  const kv = /^([^=\s]+)=(.*)$/.exec(word);
  if (kv && JsonKeySchema.safeParse(kv[1]).success) return configTest(q, { key: kv[1]!, op: "eq", value: kv[2]! });
  const like = likeOf(word);
  const fields =
    q.provider === "postgres"
      ? [`r."name"`, `r."id"`, `COALESCE(r."group", '')`, `COALESCE(r."host", '')`, `COALESCE(r."tags"::text, '')`, `COALESCE(r."config"::text, '')`]
      : [`r."name"`, `r."id"`, `COALESCE(r."group", '')`, `COALESCE(r."host", '')`, `COALESCE(r."tags", '')`, `COALESCE(r."config", '')`];
  // one parameter, read by every field (PostgreSQL numbers it; SQLite repeats it)
  if (q.provider === "postgres") {
    const p = q.p(like);
    return `(${fields.map((f) => `lower(${f}) LIKE ${p} ESCAPE '\\'`).join(" OR ")})`;
  }
  return `(${fields.map((f) => `lower(${f}) LIKE ${q.p(like)} ESCAPE '\\'`).join(" OR ")})`;
}

/** the filters' SQL test (view, status, tag, config, search words, group), parameters added to `q` */
export function whereOf(q: Sql, projectId: string, input: RunQuery): string {
  const parts = [`r."projectId" = ${q.p(projectId)}`, viewTest(input.view)];
  if (input.status) parts.push(`r."status" = ${q.p(input.status)}`);
  if (input.tag)
    parts.push(
      q.provider === "postgres"
        ? `r."tags" @> ${q.p(JSON.stringify([input.tag]))}::jsonb`
        : `EXISTS (SELECT 1 FROM json_each(r."tags") t WHERE t."value" = ${q.p(input.tag)})`,
    );
  for (const f of input.config ?? []) parts.push(configTest(q, f));
  if (input.inGroup) parts.push(inGroupTest(q, input.inGroup.by, input.inGroup.value));
  for (const word of (input.search ?? "").trim().split(/\s+/).filter(Boolean).slice(0, 10)) parts.push(searchTest(q, word));
  return parts.join(" AND ");
}

/** the LEFT JOIN a metric sort reads (before the WHERE in the SQL text, so its parameter comes first) */
function joinOf(q: Sql, sort: Sort): string {
  return sort.kind === "metric" ? `LEFT JOIN "MetricSeries" ms ON ms."runId" = r."id" AND ms."key" = ${q.p(sort.key)}` : "";
}

function orderOf(q: Sql, sort: Sort, dir: 1 | -1): string {
  const d = dir === 1 ? "ASC" : "DESC";
  // ties (and empty cells, last either way) fall back to newest first, then id: pages never overlap
  const tail = `r."createdAt" DESC, r."id" DESC`;
  if (sort.kind === "metric") return `ms."${sort.agg}" ${d} NULLS LAST, ${tail}`;
  // SQLite: json_extract's SQL value (numbers before text, numbers by value); PostgreSQL: jsonb's order (numbers by value)
  if (sort.kind === "json") return `${jsonAt(q, `r."${sort.column}"`, sort.key, q.provider === "sqlite")} ${d} NULLS LAST, ${tail}`;
  const duration =
    q.provider === "postgres"
      ? `EXTRACT(EPOCH FROM (COALESCE(r."finishedAt", r."heartbeatAt", r."updatedAt") - r."createdAt"))`
      : `(julianday(COALESCE(r."finishedAt", r."heartbeatAt", r."updatedAt")) - julianday(r."createdAt"))`;
  // createdAt is never NULL: a plain ORDER BY it walks the (projectId, createdAt) index
  if (sort.col === "created") return `r."createdAt" ${d}, r."id" ${d}`;
  const expr = { name: `r."name"`, status: `r."status"`, duration, group: `r."group"`, host: `r."host"` }[sort.col];
  return `${expr} ${d} NULLS LAST, ${tail}`;
}

type Deps = { db: Database; metrics: MetricsStore };

/** the runs of these ids (in this order) as run.list shapes them: with a duration and their metric summaries */
async function readRows(deps: Deps, ids: string[]) {
  if (!ids.length) return [];
  const [full, summaries] = await Promise.all([deps.db.prisma.run.findMany({ where: { id: { in: ids } } }), deps.metrics.summaries(ids)]);
  const byId = new Map(full.map((r) => [r.id, r]));
  return ids
    .map((id) => byId.get(id))
    .filter((r) => r !== undefined)
    .map((r) => ({
      ...r,
      durationMs: (r.finishedAt ?? r.heartbeatAt ?? r.updatedAt).getTime() - r.createdAt.getTime(),
      metrics: summaries[r.id] ?? {},
    }));
}

/**
 * Which of the pinned ids are runs of the project in the view (a trashed run is never pinned),
 * and whether the filters would keep each: pinned runs stay on top whatever the filters (as in
 * W&B), and the table marks those the filters leave out. One lookup by primary key.
 */
async function pinnedMatches(db: Database, projectId: string, input: RunQuery, pinned: string[]) {
  if (!pinned.length) return [];
  // parameters in text order: the filters' test (in the SELECT) first
  const q = sqlBuilder(db.provider);
  const matches = whereOf(q, projectId, input);
  const sql = `SELECT r."id" AS "id", CASE WHEN ${matches} THEN 1 ELSE 0 END AS "matches" FROM "Run" r WHERE r."projectId" = ${q.p(projectId)} AND ${viewTest(input.view)} AND r."deletedAt" IS NULL AND r."id" IN (${pinned.map((id) => q.p(id)).join(", ")})`;
  const found = new Map((await rows<{ id: string; matches: number | string }>(db, sql, q.params)).map((r) => [r.id, Number(r.matches) === 1]));
  return pinned.filter((id) => found.has(id)).map((id) => ({ id, matches: found.get(id)! }));
}

/**
 * One page of a project's runs (`projectId`: its id) as run.list shapes them, with the total
 * that match, and the pinned runs apart (`pinnedRows`, in pin order; left out of the pages and
 * of `total`, so paging walks the other runs exactly once). Also run.list's engine (its
 * `limit` may reach 5,000).
 */
export async function queryRuns(deps: Deps, projectId: string, input: RunQuery) {
  const { db } = deps;
  const limit = input.limit ?? 100;
  const offset = input.offset ?? 0;
  const sort = input.sort
    ? (parseSortColumn(input.sort.col) ?? { kind: "base" as const, col: "created" as const })
    : { kind: "base" as const, col: "created" as const };
  const dir = input.sort ? input.sort.dir : -1;
  // nothing is pinned in the trash (a pinned id there is a run in the trash, never shown on top)
  const pinned = input.view === "trash" ? [] : [...new Set(input.pinned ?? [])];
  const notPinned = (s: Sql) => (pinned.length ? ` AND r."id" NOT IN (${pinned.map((id) => s.p(id)).join(", ")})` : "");

  // parameters in the order they appear in the text (SQLite's `?`): join, where, order, page
  const q = sqlBuilder(db.provider);
  const join = joinOf(q, sort);
  const where = whereOf(q, projectId, input) + notPinned(q);
  const order = orderOf(q, sort, dir);
  const pageSql = `SELECT r."id" AS "id" FROM "Run" r ${join} WHERE ${where} ORDER BY ${order} LIMIT ${q.p(limit)} OFFSET ${q.p(offset)}`;
  const c = sqlBuilder(db.provider);
  const countSql = `SELECT count(*) AS "n" FROM "Run" r WHERE ${whereOf(c, projectId, input) + notPinned(c)}`;
  const [ids, counted, pins] = await Promise.all([
    rows<{ id: string }>(db, pageSql, q.params),
    rows<{ n: number | string | bigint }>(db, countSql, c.params),
    pinnedMatches(db, projectId, input, pinned),
  ]);
  const [runs, pinnedRows] = await Promise.all([
    readRows(
      deps,
      ids.map((r) => r.id),
    ),
    readRows(
      deps,
      pins.map((p) => p.id),
    ),
  ]);
  const pinnedOutsideFilters = pins.filter((p) => !p.matches).map((p) => p.id);
  return { runs, total: Number(counted[0]?.n ?? 0), offset, limit, pinnedRows, pinnedOutsideFilters };
}

/** how many of the newest runs the facets read for config and metric keys */
export const FACET_SAMPLE = 1000;

/**
 * What the runs table offers to filter, sort and group on: every tag of the project's runs, and
 * the config keys (with up to 50 values each, and how many distinct values they take) and metric
 * keys of its newest FACET_SAMPLE runs.
 */
export async function runFacets(deps: { db: Database }, projectId: string, view?: RunListView) {
  const { db } = deps;
  const pg = db.provider === "postgres";
  const p1 = pg ? "$1" : "?";
  const tagsSql = pg
    ? `SELECT DISTINCT t AS "tag" FROM "Run" r, jsonb_array_elements_text(CASE WHEN jsonb_typeof(r."tags") = 'array' THEN r."tags" ELSE '[]'::jsonb END) t WHERE r."projectId" = $1 AND ${viewTest(view)} ORDER BY 1 LIMIT 1000`
    : `SELECT DISTINCT t."value" AS "tag" FROM "Run" r, json_each(CASE WHEN json_type(r."tags") = 'array' THEN r."tags" ELSE '[]' END) t WHERE r."projectId" = ? AND ${viewTest(view)} ORDER BY 1 LIMIT 1000`;
  const newest = `SELECT r."id" FROM "Run" r WHERE r."projectId" = ${p1} AND ${viewTest(view)} ORDER BY r."createdAt" DESC LIMIT ${FACET_SAMPLE}`;
  const configSql = `SELECT r."config" AS "config" FROM "Run" r WHERE r."id" IN (${newest})`;
  const metricSql = `SELECT DISTINCT ms."key" AS "key" FROM "MetricSeries" ms WHERE ms."runId" IN (${newest}) ORDER BY 1`;
  const [tags, configs, keys] = await Promise.all([
    rows<{ tag: string }>(db, tagsSql, [projectId]),
    rows<{ config: unknown }>(db, configSql, [projectId]),
    rows<{ key: string }>(db, metricSql, [projectId]),
  ]);
  const values = new Map<string, Set<string>>();
  for (const row of configs) {
    const config = typeof row.config === "string" ? (JSON.parse(row.config) as unknown) : row.config;
    for (const [k, v] of Object.entries(flattenConfig(config))) {
      let set = values.get(k);
      if (!set) values.set(k, (set = new Set()));
      set.add(v);
    }
  }
  const configKeys = [...values.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, set]) => ({ key, distinct: set.size, values: [...set].sort(byValue).slice(0, 50) }));
  return { tags: tags.map((t) => t.tag), configKeys, metricKeys: keys.map((k) => k.key), sampled: FACET_SAMPLE };
}

/** numbers by value, then text */
function byValue(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}
