import type pg from "pg";

import type { CellRow, MetricsIo, MetricsOps, SeriesRow } from "./ops";
import { type Row, toCell, toChunk, toSeries } from "./rows";
import { CELL_COLS, mergeSet, SERIES_MERGE_EXTRA } from "./sql";

type Q = pg.Pool | pg.PoolClient;

const CHUNK_COLS = `"key","startStep","endStep","count","data"`;
const CELL_SELECT = `"key","level","cell",${CELL_COLS}`;

/** column arrays for unnest(): one round trip per statement whatever the row count */
function cellArrays(rows: (CellRow | SeriesRow)[]) {
  return [
    rows.map((c) => c.count),
    rows.map((c) => c.min),
    rows.map((c) => c.max),
    rows.map((c) => c.lastStep),
    rows.map((c) => c.last),
    rows.map((c) => c.lastFiniteStep),
    rows.map((c) => c.lastFinite),
    rows.map((c) => c.lastTs),
  ];
}
// column order = ("key","level","cell", CELL_COLS) and ("key","firstStep", CELL_COLS)
const CELL_UNNEST = `unnest($2::text[], $3::int[], $4::bigint[], $5::int[], $6::float8[], $7::float8[], $8::bigint[], $9::float8[], $10::bigint[], $11::float8[], $12::float8[])`;
const SERIES_UNNEST = `unnest($2::text[], $3::bigint[], $4::int[], $5::bigint[], $6::float8[], $7::float8[], $8::bigint[], $9::float8[], $10::bigint[], $11::float8[], $12::float8[])`;

// Long because it is one object literal: the MetricsOps methods (one SQL statement each) over
// one pool or transaction client, sharing `q`.
function opsFor(q: Q): MetricsOps {
  return {
    async chunksForMerge(runId, ranges) {
      const r = await q.query({
        text: `SELECT c."key", c."startStep", c."endStep", c."count", c."data"
         FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r(k, lo, hi)
         JOIN "MetricChunk" c ON c."runId" = $1 AND c."key" = r.k AND c."startStep" <= r.hi AND c."startStep" >= coalesce(
           (SELECT p."startStep" FROM "MetricChunk" p WHERE p."runId" = $1 AND p."key" = r.k AND p."startStep" <= r.lo ORDER BY p."startStep" DESC LIMIT 1), 0)
         ORDER BY c."key", c."startStep"`,
        values: [runId, ranges.map((x) => x.key), ranges.map((x) => x.lo), ranges.map((x) => x.hi)],
      });
      return (r.rows as Row[]).map(toChunk);
    },
    async chunksIn(runId, key, lo, hi) {
      const r = await q.query({
        text: `SELECT ${CHUNK_COLS} FROM "MetricChunk" WHERE "runId"=$1 AND "key"=$2 AND "startStep" <= $3 AND "endStep" >= $4 AND "startStep" >= coalesce(
           (SELECT "startStep" FROM "MetricChunk" WHERE "runId"=$1 AND "key"=$2 AND "startStep" <= $4 ORDER BY "startStep" DESC LIMIT 1), 0) ORDER BY "startStep"`,
        values: [runId, key, hi, lo],
      });
      return (r.rows as Row[]).map(toChunk);
    },
    async scanChunks(runId, afterKey, afterStart, limit) {
      const r = await q.query({
        text: `SELECT ${CHUNK_COLS} FROM "MetricChunk" WHERE "runId"=$1 AND ("key", "startStep") > ($2, $3) ORDER BY "key","startStep" LIMIT $4`,
        values: [runId, afterKey, afterStart, limit],
      });
      return (r.rows as Row[]).map(toChunk);
    },
    async deleteChunks(runId, refs) {
      if (!refs.length) return;
      await q.query(`DELETE FROM "MetricChunk" c USING unnest($2::text[], $3::bigint[]) AS r(k, s) WHERE c."runId"=$1 AND c."key"=r.k AND c."startStep"=r.s`, [
        runId,
        refs.map((x) => x.key),
        refs.map((x) => x.startStep),
      ]);
    },
    async insertChunks(runId, rows) {
      // multi-row VALUES with Buffer parameters: node-postgres sends those in binary, where a
      // bytea[] for unnest() would travel as hex text (twice the bytes, plus parsing)
      for (let i = 0; i < rows.length; i += 500) {
        const part = rows.slice(i, i + 500);
        const params: unknown[] = [runId];
        const tuples = part.map((c) => {
          const b = params.length;
          params.push(c.key, c.startStep, c.endStep, c.count, Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength));
          return `($1,$${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5})`;
        });
        await q.query(`INSERT INTO "MetricChunk" ("runId","key","startStep","endStep","count","data") VALUES ${tuples.join(",")}`, params);
      }
    },
    async cutChunks(runId, step, keys) {
      const d = await q.query(
        `WITH d AS (DELETE FROM "MetricChunk" WHERE "runId"=$1 AND "key" = ANY($3) AND "startStep" > $2 RETURNING "count") SELECT coalesce(sum("count"),0)::bigint AS n FROM d`,
        [runId, step, keys],
      );
      const s = await q.query(`SELECT ${CHUNK_COLS} FROM "MetricChunk" WHERE "runId"=$1 AND "key" = ANY($3) AND "startStep" <= $2 AND "endStep" > $2`, [
        runId,
        step,
        keys,
      ]);
      return { dropped: Number((d.rows[0] as Row).n), straddling: (s.rows as Row[]).map(toChunk) };
    },
    async mergeCells(runId, rows) {
      if (!rows.length) return;
      await q.query(
        `INSERT INTO "MetricRollup" AS t ("runId",${CELL_SELECT}) SELECT $1, * FROM ${CELL_UNNEST}
         ON CONFLICT ("runId","key","level","cell") DO UPDATE SET ${mergeSet("t")}`,
        cellParams(runId, rows),
      );
    },
    async insertCells(runId, rows) {
      if (!rows.length) return;
      await q.query(`INSERT INTO "MetricRollup" ("runId",${CELL_SELECT}) SELECT $1, * FROM ${CELL_UNNEST}`, cellParams(runId, rows));
    },
    async cells(runId, key, level, c0, c1) {
      const r =
        key === null
          ? await q.query(`SELECT ${CELL_SELECT} FROM "MetricRollup" WHERE "runId"=$1 AND "level"=$2 AND "cell" BETWEEN $3 AND $4 ORDER BY "key","cell"`, [
              runId,
              level,
              c0,
              c1,
            ])
          : await q.query(
              `SELECT ${CELL_SELECT} FROM "MetricRollup" WHERE "runId"=$1 AND "key"=$2 AND "level"=$3 AND "cell" BETWEEN $4 AND $5 ORDER BY "cell"`,
              [runId, key, level, c0, c1],
            );
      return (r.rows as Row[]).map(toCell);
    },
    async deleteCellsFrom(runId, keys, level, cell) {
      await q.query(`DELETE FROM "MetricRollup" WHERE "runId"=$1 AND "key" = ANY($2::text[]) AND "level"=$3 AND "cell" >= $4`, [runId, keys, level, cell]);
    },
    async mergeSeries(runId, rows) {
      if (!rows.length) return;
      await q.query(
        `INSERT INTO "MetricSeries" AS t ("runId","key","firstStep","baseLevel",${CELL_COLS}) SELECT $1, * FROM ${SERIES_UNNEST}
         ON CONFLICT ("runId","key") DO UPDATE SET ${mergeSet("t")}${SERIES_MERGE_EXTRA("t")}`,
        seriesParams(runId, rows),
      );
    },
    async replaceSeries(runId, rows, removed) {
      const keys = [...rows.map((r) => r.key), ...removed];
      if (keys.length) await q.query(`DELETE FROM "MetricSeries" WHERE "runId"=$1 AND "key" = ANY($2::text[])`, [runId, keys]);
      if (rows.length)
        await q.query(
          `INSERT INTO "MetricSeries" ("runId","key","firstStep","baseLevel",${CELL_COLS}) SELECT $1, * FROM ${SERIES_UNNEST}`,
          seriesParams(runId, rows),
        );
    },
    async series(runIds, key) {
      const r =
        key === undefined
          ? await q.query(`SELECT * FROM "MetricSeries" WHERE "runId" = ANY($1::text[]) ORDER BY "runId","key"`, [runIds])
          : await q.query(`SELECT * FROM "MetricSeries" WHERE "runId" = ANY($1::text[]) AND "key"=$2`, [runIds, key]);
      return (r.rows as Row[]).map(toSeries);
    },
    async advanceWriter(runId, writer, seq) {
      await q.query(
        `INSERT INTO "RunWriter" ("runId","writer","lastSeq") VALUES ($1,$2,$3) ON CONFLICT ("runId","writer") DO UPDATE SET "lastSeq" = GREATEST("RunWriter"."lastSeq", excluded."lastSeq")`,
        [runId, writer, seq],
      );
    },
    async baseLevels(runId, keys) {
      const r = await q.query(`SELECT "key", "baseLevel" FROM "MetricSeries" WHERE "runId"=$1 AND "key" = ANY($2::text[])`, [runId, keys]);
      return new Map((r.rows as Row[]).map((x) => [x.key as string, Number(x.baseLevel)]));
    },
    async deleteRun(runId) {
      for (const t of ["MetricChunk", "MetricRollup", "MetricSeries"]) await q.query(`DELETE FROM "${t}" WHERE "runId"=$1`, [runId]);
    },
  };
}

function cellParams(runId: string, rows: CellRow[]) {
  return [runId, rows.map((c) => c.key), rows.map((c) => c.level), rows.map((c) => c.cell), ...cellArrays(rows)];
}
function seriesParams(runId: string, rows: SeriesRow[]) {
  return [runId, rows.map((r) => r.key), rows.map((r) => r.firstStep), rows.map((r) => r.baseLevel), ...cellArrays(rows)];
}

/**
 * Writes take a transaction-scoped advisory lock on the run: two web processes (or a retried
 * batch racing its original) must not both merge into the same tail chunk. Reads go straight
 * to the pool (MVCC).
 */
export function createPgIo(pool: pg.Pool): MetricsIo {
  const poolOps = opsFor(pool);
  return {
    async write(runId, fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7217))`, ["heron-metrics:" + runId]);
        const out = await fn(opsFor(client));
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    read: (fn) => fn(poolOps),
  };
}
