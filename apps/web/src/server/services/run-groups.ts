import { NO_VALUE } from "@heron/core";
import type { Database } from "@heron/db";
import { z } from "zod";

import { RunQueryFields, whereOf } from "./run-query";
import { groupLabel, rows, type Sql, sqlBuilder, TableGroupBySchema, tagArray } from "./run-sql";

/**
 * The folded runs table on the server: the groups (by tag, job group or config value) of every
 * run the filters keep, with their run counts — not only the page's. Opening a group asks
 * run.page for its runs with `inGroup: { by, value }`, page by page; both read the same SQL
 * expression of a run's group (run-sql.ts), so a group lists exactly the runs it counted.
 */

/** the most groups run.groups answers; `groupCount` says how many there are in all */
export const GROUPS_MAX = 200;

export const RunGroupsSchema = z.object({
  projectId: z.string().min(1),
  view: RunQueryFields.view,
  tag: RunQueryFields.tag,
  status: RunQueryFields.status,
  search: RunQueryFields.search,
  config: RunQueryFields.config,
  by: TableGroupBySchema,
});
export type RunGroupsInput = z.infer<typeof RunGroupsSchema>;

/** the group label column and the FROM clause: a run is one row, or one row per tag (none: one row, label NULL) */
function source(q: Sql, by: RunGroupsInput["by"]): { label: string; from: string } {
  if (by !== "tag") return { label: groupLabel(q, by), from: `"Run" r` };
  if (q.provider === "postgres") return { label: `t.v`, from: `"Run" r LEFT JOIN LATERAL jsonb_array_elements_text(${tagArray(q)}) AS t(v) ON t.v <> ''` };
  return { label: `t."value"`, from: `"Run" r LEFT JOIN json_each(${tagArray(q)}) AS t ON t."type" = 'text' AND t."value" <> ''` };
}

/**
 * A group's label as the table shows a config value. PostgreSQL writes a jsonb list or object
 * with spaces (`[1, 2]`) where the table (JSON.stringify) writes `[1,2]`; `value` keeps the
 * database's text, which is what run.page's `inGroup` compares.
 */
function shown(provider: "sqlite" | "postgres", value: string | null): string {
  if (value === null) return NO_VALUE;
  if (provider !== "postgres" || !/^[[{]/.test(value)) return value;
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return value;
  }
}

/**
 * `{ by, groups: [{ value, label, count }], groupCount, total }`: every group of the project's
 * runs that match the filters, newest run first ("(none)" last, `value` null), at most
 * GROUPS_MAX; `total` counts the runs (a run with several tags counts once).
 */
export async function runGroups(deps: { db: Database }, projectId: string, input: Omit<RunGroupsInput, "projectId">) {
  const { db } = deps;
  // parameters in text order: the label (in the SELECT and the join) before the filters
  const q = sqlBuilder(db.provider);
  const { label, from } = source(q, input.by);
  const where = whereOf(q, projectId, input);
  // count(DISTINCT): a run tagged "a" twice is one run of group "a"
  const grouped = `SELECT ${label} AS "label", count(DISTINCT r."id") AS "n", max(r."createdAt") AS "newest" FROM ${from} WHERE ${where} GROUP BY 1`;
  const sql = `SELECT g."label" AS "label", g."n" AS "n", count(*) OVER () AS "groups" FROM (${grouped}) g ORDER BY (CASE WHEN g."label" IS NULL THEN 1 ELSE 0 END), g."newest" DESC, g."label" LIMIT ${q.p(GROUPS_MAX)}`;
  const c = sqlBuilder(db.provider);
  const countSql = `SELECT count(*) AS "n" FROM "Run" r WHERE ${whereOf(c, projectId, input)}`;
  type Row = { label: string | null; n: number | string | bigint; groups: number | string | bigint };
  const [found, counted] = await Promise.all([rows<Row>(db, sql, q.params), rows<{ n: number | string | bigint }>(db, countSql, c.params)]);
  return {
    by: input.by,
    groups: found.map((g) => ({ value: g.label, label: shown(db.provider, g.label), count: Number(g.n) })),
    groupCount: Number(found[0]?.groups ?? 0),
    total: Number(counted[0]?.n ?? 0),
  };
}
