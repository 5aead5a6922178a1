import { type GroupBy, GroupBySchema } from "@heron/core";
import type { Database } from "@heron/db";
import { z } from "zod";

import type { RunListView } from "./run-management";

/**
 * The SQL pieces run.page (run-query.ts) and run.groups (run-groups.ts) share, written once for
 * SQLite and PostgreSQL: parameters, JSON paths into "Run"."config", the view's test, and what a
 * run's group is when the table folds by tag, job group or config value.
 */

/** a character below U+0020 (tabs and newlines too when `strict`) */
function hasControl(s: string, strict: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && (strict || (c !== 0x09 && c !== 0x0a))) return true;
  }
  return false;
}

/**
 * A config (or summary) key as the table names it: nested keys joined by "." (lib/flatten.ts).
 * No quote, backslash or control character: each segment goes into a JSON path.
 */
export const JsonKeySchema = z
  .string()
  .min(1, "a config key must not be empty")
  .max(200, "a config key is longer than 200 characters")
  .refine((k) => !k.includes('"') && !k.includes("\\") && !hasControl(k, true), "a config key must not contain quotes, backslashes or control characters")
  .refine((k) => k.split(".").every((s) => s.length > 0), "a config key must not have an empty segment (a..b)");

/** free text from the table: no control characters (PostgreSQL refuses NUL in text) */
export const text = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((v) => !hasControl(v, false), `${what} must not contain control characters`);

/** tag, job group or config:<key>, the config key one a JSON path may hold */
export const TableGroupBySchema = GroupBySchema.refine(
  (by) => !by.startsWith("config:") || JsonKeySchema.safeParse(by.slice("config:".length)).success,
  "a group-by config key must not contain quotes, backslashes, control characters or empty segments",
);

export type Sql = { provider: "sqlite" | "postgres"; params: unknown[]; p(v: unknown): string };

export function sqlBuilder(provider: "sqlite" | "postgres"): Sql {
  const params: unknown[] = [];
  return {
    provider,
    params,
    p(v) {
      params.push(v);
      return provider === "postgres" ? `$${params.length}` : "?";
    },
  };
}

/** `$."a"."b"`: a dotted key as a SQLite JSON path */
export const sqlitePath = (key: string) =>
  "$" +
  key
    .split(".")
    .map((s) => `."${s}"`)
    .join("");

/** the JSON path of a dotted key: `$."a"."b"` (SQLite) or a text[] parameter (PostgreSQL) */
export function jsonAt(q: Sql, column: string, key: string, asText = false): string {
  if (q.provider === "postgres") return `${column} ${asText ? "#>>" : "#>"} ${q.p(key.split("."))}::text[]`;
  return `${asText ? "json_extract" : ""}(${column}${asText ? ", " : " -> "}${q.p(sqlitePath(key))})`;
}

export async function rows<T>(db: Database, sql: string, params: unknown[]): Promise<T[]> {
  if (db.provider === "postgres") return (await db.pool.query(sql, params)).rows as T[];
  return db.sqlite.prepare(sql).all(...(params as (string | number)[])) as T[];
}

export function viewTest(view: RunListView = "active"): string {
  if (view === "trash") return `r."deletedAt" IS NOT NULL`;
  if (view === "archived") return `r."deletedAt" IS NULL AND r."archivedAt" IS NOT NULL`;
  if (view === "all") return `r."deletedAt" IS NULL`;
  return `r."deletedAt" IS NULL AND r."archivedAt" IS NULL`;
}

/** the run's tags as a JSON array whatever the column holds (an old row may hold null or an object) */
export const tagArray = (q: Sql) =>
  q.provider === "postgres"
    ? `CASE WHEN jsonb_typeof(r."tags") = 'array' THEN r."tags" ELSE '[]'::jsonb END`
    : `CASE WHEN json_type(r."tags") = 'array' THEN r."tags" ELSE '[]' END`;

/**
 * The group label of a run folded by job group or config value, as @heron/core's groupRuns
 * names it: a string value as is, anything else as its JSON text; NULL for "(none)" (no value,
 * null or ""). Grouping and opening a group read this one expression, so a group lists exactly
 * the runs it counted.
 */
export function groupLabel(q: Sql, by: Exclude<GroupBy, "tag">): string {
  if (by === "group") return `NULLIF(r."group", '')`;
  const key = by.slice("config:".length);
  if (q.provider === "postgres") {
    const at = jsonAt(q, `r."config"`, key);
    return `NULLIF(CASE jsonb_typeof(${at}) WHEN 'string' THEN (${at}) #>> '{}' WHEN 'null' THEN NULL ELSE (${at})::text END, '')`;
  }
  // the path three times: SQLite numbers `?` by position
  const path = () => q.p(sqlitePath(key));
  return `NULLIF(CASE json_type(r."config", ${path()}) WHEN 'text' THEN json_extract(r."config", ${path()}) WHEN 'null' THEN NULL ELSE (r."config" -> ${path()}) END, '')`;
}

/** the runs of one group (`value` null: the "(none)" group) */
export function inGroupTest(q: Sql, by: GroupBy, value: string | null): string {
  if (by !== "tag") return value === null ? `${groupLabel(q, by)} IS NULL` : `${groupLabel(q, by)} = ${q.p(value)}`;
  const each = q.provider === "postgres" ? `jsonb_array_elements_text(${tagArray(q)}) AS t(v)` : `json_each(${tagArray(q)}) AS t`;
  const v = q.provider === "postgres" ? `t.v` : `t."value"`;
  const textOnly = q.provider === "postgres" ? "" : ` AND t."type" = 'text'`;
  if (value === null) return `NOT EXISTS (SELECT 1 FROM ${each} WHERE ${v} <> ''${textOnly})`;
  return `EXISTS (SELECT 1 FROM ${each} WHERE ${v} = ${q.p(value)}${textOnly})`;
}
