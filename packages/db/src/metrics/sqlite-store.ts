import type BetterSqlite3 from "better-sqlite3";
import type { MetricPoint, SeriesQuery } from "@heron/core";
import { bucketPoints } from "./bucket";
import { kindOf, valueOf, FINITE } from "./kinds";
import type { KeySummary, MetricsStore } from "./types";

/**
 * SQLite metrics store on better-sqlite3 prepared statements (one transaction per batch).
 * Prisma is bypassed here on purpose: its createMany measured ~8k rows/s.
 */
export function createSqliteMetricsStore(db: BetterSqlite3.Database): MetricsStore {
  const insert = db.prepare(`INSERT INTO "MetricPoint" ("runId","key","step","value","kind","ts") VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING`);
  const writeTx = db.transaction((runId: string, points: MetricPoint[]) => {
    let inserted = 0;
    for (const p of points) {
      const kind = kindOf(p.value);
      inserted += insert.run(runId, p.key, p.step, kind === FINITE ? p.value : null, kind, p.ts).changes;
    }
    return inserted;
  });
  const rangeQuery = db.prepare(`SELECT "step","value","kind" FROM "MetricPoint" WHERE "runId"=? AND "key"=? AND "step">=? AND "step"<=? ORDER BY "step"`).raw();

  return {
    async write(runId, points) {
      return { inserted: writeTx(runId, points) };
    },
    async rewind(runId, step) {
      const r = db.prepare(`DELETE FROM "MetricPoint" WHERE "runId"=? AND "step">?`).run(runId, step);
      return { deleted: r.changes };
    },
    async series(q: SeriesQuery) {
      const rows = rangeQuery.all(q.runId, q.key, q.stepMin ?? 0, q.stepMax ?? Number.MAX_SAFE_INTEGER) as [number, number | null, number][];
      const steps = rows.map((r) => Number(r[0]));
      const values = rows.map((r) => valueOf(r[1], r[2]));
      return bucketPoints(q.key, steps, values, q.maxPoints, q.stepMin, q.stepMax);
    },
    async keys(runId) {
      return db.prepare(`SELECT DISTINCT "key" FROM "MetricPoint" WHERE "runId"=? ORDER BY "key"`).pluck().all(runId) as string[];
    },
    async summaries(runIds) {
      const out: Record<string, Record<string, KeySummary>> = {};
      const stmt = db.prepare(`
        SELECT "key", COUNT(*) AS count, MIN(CASE WHEN "kind"=0 THEN "value" END) AS min, MAX(CASE WHEN "kind"=0 THEN "value" END) AS max,
          (SELECT p2."value" FROM "MetricPoint" p2 WHERE p2."runId"=p."runId" AND p2."key"=p."key" AND p2."kind"=0 ORDER BY p2."step" DESC LIMIT 1) AS last,
          (SELECT p2."step" FROM "MetricPoint" p2 WHERE p2."runId"=p."runId" AND p2."key"=p."key" AND p2."kind"=0 ORDER BY p2."step" DESC LIMIT 1) AS lastStep
        FROM "MetricPoint" p WHERE "runId"=? GROUP BY "key"`);
      for (const runId of runIds) {
        const rows = stmt.all(runId) as { key: string; count: number; min: number | null; max: number | null; last: number | null; lastStep: number | null }[];
        out[runId] = Object.fromEntries(rows.map((r) => [r.key, { count: r.count, min: r.min, max: r.max, last: r.last, lastStep: r.lastStep === null ? null : Number(r.lastStep) }]));
      }
      return out;
    },
    async *scan(runId, batchSize = 10_000) {
      const stmt = db.prepare(`SELECT "key","step","value","kind","ts" FROM "MetricPoint" WHERE "runId"=? AND ("key">? OR ("key"=? AND "step">?)) ORDER BY "key","step" LIMIT ?`);
      let key = "";
      let step = -1;
      for (;;) {
        const rows = stmt.all(runId, key, key, step, batchSize) as { key: string; step: number; value: number | null; kind: number; ts: number }[];
        if (rows.length === 0) return;
        yield rows.map((r) => ({ key: r.key, step: Number(r.step), value: valueOf(r.value, r.kind), ts: r.ts }));
        const lastRow = rows[rows.length - 1]!;
        key = lastRow.key;
        step = Number(lastRow.step);
      }
    },
    async deleteRun(runId) {
      db.prepare(`DELETE FROM "MetricPoint" WHERE "runId"=?`).run(runId);
    },
  };
}
