import type pg from "pg";
import type { MetricPoint, SeriesQuery } from "@heron/core";
import { bucketPoints } from "./bucket";
import { kindOf, valueOf, FINITE } from "./kinds";
import type { KeySummary, MetricsStore } from "./types";

/** PostgreSQL metrics store: multi-row INSERT … ON CONFLICT DO NOTHING through node-postgres. */
export function createPgMetricsStore(pool: pg.Pool): MetricsStore {
  return {
    async write(runId, points) {
      if (points.length === 0) return { inserted: 0 };
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        let inserted = 0;
        // unnest() keeps one statement per chunk with 6 array parameters instead of 6×N params
        for (let i = 0; i < points.length; i += 10_000) {
          const chunk = points.slice(i, i + 10_000);
          const r = await client.query(
            `INSERT INTO "MetricPoint" ("runId","key","step","value","kind","ts")
             SELECT $1, k, s, v, kd, t FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::int[], $6::float8[]) AS u(k,s,v,kd,t)
             ON CONFLICT DO NOTHING`,
            [runId, chunk.map((p) => p.key), chunk.map((p) => p.step), chunk.map((p) => (kindOf(p.value) === FINITE ? p.value : null)), chunk.map((p) => kindOf(p.value)), chunk.map((p) => p.ts)],
          );
          inserted += r.rowCount ?? 0;
        }
        await client.query("COMMIT");
        return { inserted };
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async rewind(runId, step) {
      const r = await pool.query(`DELETE FROM "MetricPoint" WHERE "runId"=$1 AND "step">$2`, [runId, step]);
      return { deleted: r.rowCount ?? 0 };
    },
    async series(q: SeriesQuery) {
      const r = await pool.query({
        text: `SELECT "step","value","kind" FROM "MetricPoint" WHERE "runId"=$1 AND "key"=$2 AND "step">=$3 AND "step"<=$4 ORDER BY "step"`,
        values: [q.runId, q.key, q.stepMin ?? 0, q.stepMax ?? Number.MAX_SAFE_INTEGER],
        rowMode: "array",
      });
      const rows = r.rows as [string, number | null, number][];
      return bucketPoints(q.key, rows.map((x) => Number(x[0])), rows.map((x) => valueOf(x[1], x[2])), q.maxPoints, q.stepMin, q.stepMax);
    },
    async keys(runId) {
      const r = await pool.query<{ key: string }>(`SELECT DISTINCT "key" FROM "MetricPoint" WHERE "runId"=$1 ORDER BY "key"`, [runId]);
      return r.rows.map((x) => x.key);
    },
    async summaries(runIds) {
      const out: Record<string, Record<string, KeySummary>> = Object.fromEntries(runIds.map((id) => [id, {}]));
      if (runIds.length === 0) return out;
      const r = await pool.query(
        `SELECT "runId","key", COUNT(*)::int AS count, MIN("value") FILTER (WHERE "kind"=0) AS min, MAX("value") FILTER (WHERE "kind"=0) AS max,
           (ARRAY_AGG("value" ORDER BY "step" DESC) FILTER (WHERE "kind"=0))[1] AS last,
           (ARRAY_AGG("step" ORDER BY "step" DESC) FILTER (WHERE "kind"=0))[1] AS "lastStep"
         FROM "MetricPoint" WHERE "runId" = ANY($1) GROUP BY "runId","key"`,
        [runIds],
      );
      for (const row of r.rows as { runId: string; key: string; count: number; min: number | null; max: number | null; last: number | null; lastStep: string | null }[]) {
        out[row.runId]![row.key] = { count: row.count, min: row.min, max: row.max, last: row.last, lastStep: row.lastStep === null ? null : Number(row.lastStep) };
      }
      return out;
    },
    async *scan(runId, batchSize = 10_000) {
      let key = "";
      let step = -1;
      for (;;) {
        const r = await pool.query(
          `SELECT "key","step","value","kind","ts" FROM "MetricPoint" WHERE "runId"=$1 AND ("key">$2 OR ("key"=$2 AND "step">$3)) ORDER BY "key","step" LIMIT $4`,
          [runId, key, step, batchSize],
        );
        const rows = r.rows as { key: string; step: string; value: number | null; kind: number; ts: number }[];
        if (rows.length === 0) return;
        yield rows.map((x) => ({ key: x.key, step: Number(x.step), value: valueOf(x.value, x.kind), ts: x.ts }));
        key = rows[rows.length - 1]!.key;
        step = Number(rows[rows.length - 1]!.step);
      }
    },
    async deleteRun(runId) {
      await pool.query(`DELETE FROM "MetricPoint" WHERE "runId"=$1`, [runId]);
    },
  };
}
