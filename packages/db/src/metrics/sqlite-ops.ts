import type BetterSqlite3 from "better-sqlite3";
import type { CellRow, ChunkRow, MetricsIo, MetricsOps, SeriesRow } from "./ops";
import { CELL_COLS, mergeSet, SERIES_MERGE_EXTRA } from "./sql";

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toChunk(r: Row): ChunkRow {
  return { key: r.key as string, startStep: Number(r.startStep), endStep: Number(r.endStep), count: Number(r.count), data: r.data as Buffer };
}
function toCell(r: Row): CellRow {
  return {
    key: r.key as string,
    level: Number(r.level),
    cell: Number(r.cell),
    count: Number(r.count),
    min: num(r.min),
    max: num(r.max),
    lastStep: Number(r.lastStep),
    last: num(r.last),
    lastFiniteStep: num(r.lastFiniteStep),
    lastFinite: num(r.lastFinite),
  };
}
export function toSeries(r: Row): SeriesRow {
  const c = toCell({ ...r, level: 0, cell: 0 });
  return { runId: r.runId as string, key: c.key, firstStep: Number(r.firstStep), count: c.count, min: c.min, max: c.max, lastStep: c.lastStep, last: c.last, lastFiniteStep: c.lastFiniteStep, lastFinite: c.lastFinite };
}
const cellArgs = (c: CellRow | SeriesRow) => [c.count, c.min, c.max, c.lastStep, c.last, c.lastFiniteStep, c.lastFinite];

/**
 * better-sqlite3 is synchronous and the store's connection is shared, so every store call
 * holds a promise mutex for its whole duration: a write's BEGIN…COMMIT can then never
 * interleave with another call's statements on the same connection.
 */
export function createSqliteIo(db: BetterSqlite3.Database): MetricsIo {
  const chunkCols = `"key","startStep","endStep","count","data"`;
  const cellCols = `"key","level","cell",${CELL_COLS}`;
  const s = {
    forMerge: db.prepare(
      `SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" <= ? AND "startStep" >= coalesce(
         (SELECT "startStep" FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" <= ? ORDER BY "startStep" DESC LIMIT 1), 0) ORDER BY "startStep"`,
    ),
    chunksIn: db.prepare(
      `SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" <= ? AND "startStep" >= coalesce(
         (SELECT "startStep" FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" <= ? ORDER BY "startStep" DESC LIMIT 1), 0) AND "endStep" >= ? ORDER BY "startStep"`,
    ),
    scan: db.prepare(`SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND ("key" > ? OR ("key" = ? AND "startStep" > ?)) ORDER BY "key","startStep" LIMIT ?`),
    delChunk: db.prepare(`DELETE FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep"=?`),
    insChunk: db.prepare(`INSERT INTO "MetricChunk" ("runId","key","startStep","endStep","count","data") VALUES (?,?,?,?,?,?)`),
    cutCount: db.prepare(`SELECT coalesce(sum("count"),0) FROM "MetricChunk" WHERE "runId"=? AND "startStep" > ?`).pluck(),
    cutDel: db.prepare(`DELETE FROM "MetricChunk" WHERE "runId"=? AND "startStep" > ?`),
    straddling: db.prepare(`SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND "startStep" <= ? AND "endStep" > ?`),
    mergeCell: db.prepare(`INSERT INTO "MetricRollup" AS t ("runId",${cellCols}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET ${mergeSet("t")}`),
    insCell: db.prepare(`INSERT INTO "MetricRollup" ("runId",${cellCols}) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
    cellsKey: db.prepare(`SELECT ${cellCols} FROM "MetricRollup" WHERE "runId"=? AND "key"=? AND "level"=? AND "cell" BETWEEN ? AND ? ORDER BY "cell"`),
    cellsAll: db.prepare(`SELECT ${cellCols} FROM "MetricRollup" WHERE "runId"=? AND "level"=? AND "cell" BETWEEN ? AND ? ORDER BY "key","cell"`),
    delCells: db.prepare(`DELETE FROM "MetricRollup" WHERE "runId"=? AND "key"=? AND "level"=? AND "cell" >= ?`),
    mergeSeries: db.prepare(
      `INSERT INTO "MetricSeries" AS t ("runId","key","firstStep",${CELL_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET ${mergeSet("t")}${SERIES_MERGE_EXTRA("t")}`,
    ),
    putSeries: db.prepare(`INSERT OR REPLACE INTO "MetricSeries" ("runId","key","firstStep",${CELL_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)`),
    delSeries: db.prepare(`DELETE FROM "MetricSeries" WHERE "runId"=? AND "key"=?`),
    seriesRun: db.prepare(`SELECT * FROM "MetricSeries" WHERE "runId"=? ORDER BY "key"`),
    writer: db.prepare(`INSERT INTO "RunWriter" ("runId","writer","lastSeq") VALUES (?,?,?) ON CONFLICT DO UPDATE SET "lastSeq" = max("lastSeq", excluded."lastSeq")`),
    seriesKey: db.prepare(`SELECT * FROM "MetricSeries" WHERE "runId"=? AND "key"=?`),
  };

  const ops: MetricsOps = {
    async chunksForMerge(runId, ranges) {
      return ranges.flatMap((r) => (s.forMerge.all(runId, r.key, r.hi, runId, r.key, r.lo) as Row[]).map(toChunk));
    },
    async chunksIn(runId, key, lo, hi) {
      return (s.chunksIn.all(runId, key, hi, runId, key, lo, lo) as Row[]).map(toChunk);
    },
    async scanChunks(runId, afterKey, afterStart, limit) {
      return (s.scan.all(runId, afterKey, afterKey, afterStart, limit) as Row[]).map(toChunk);
    },
    async deleteChunks(runId, refs) {
      for (const r of refs) s.delChunk.run(runId, r.key, r.startStep);
    },
    async insertChunks(runId, rows) {
      for (const c of rows) s.insChunk.run(runId, c.key, c.startStep, c.endStep, c.count, c.data);
    },
    async cutChunks(runId, step) {
      const dropped = Number(s.cutCount.get(runId, step));
      s.cutDel.run(runId, step);
      return { dropped, straddling: (s.straddling.all(runId, step, step) as Row[]).map(toChunk) };
    },
    async mergeCells(runId, rows) {
      for (const c of rows) s.mergeCell.run(runId, c.key, c.level, c.cell, ...cellArgs(c));
    },
    async insertCells(runId, rows) {
      for (const c of rows) s.insCell.run(runId, c.key, c.level, c.cell, ...cellArgs(c));
    },
    async cells(runId, key, level, c0, c1) {
      const rows = key === null ? s.cellsAll.all(runId, level, c0, c1) : s.cellsKey.all(runId, key, level, c0, c1);
      return (rows as Row[]).map(toCell);
    },
    async deleteCellsFrom(runId, keys, level, cell) {
      for (const k of keys) s.delCells.run(runId, k, level, cell);
    },
    async mergeSeries(runId, rows) {
      for (const r of rows) s.mergeSeries.run(runId, r.key, r.firstStep, ...cellArgs(r));
    },
    async replaceSeries(runId, rows, removed) {
      for (const r of rows) s.putSeries.run(runId, r.key, r.firstStep, ...cellArgs(r));
      for (const k of removed) s.delSeries.run(runId, k);
    },
    async series(runIds, key) {
      if (key !== undefined) return runIds.flatMap((id) => (s.seriesKey.all(id, key) as Row[]).map(toSeries));
      return runIds.flatMap((id) => (s.seriesRun.all(id) as Row[]).map(toSeries));
    },
    async advanceWriter(runId, writer, seq) {
      s.writer.run(runId, writer, seq);
    },
    async deleteRun(runId) {
      for (const t of ["MetricChunk", "MetricRollup", "MetricSeries"]) db.prepare(`DELETE FROM "${t}" WHERE "runId"=?`).run(runId);
    },
  };

  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }
  return {
    write: (_runId, fn) =>
      exclusive(async () => {
        db.prepare("BEGIN IMMEDIATE").run();
        try {
          const out = await fn(ops);
          db.prepare("COMMIT").run();
          return out;
        } catch (err) {
          if (db.inTransaction) db.prepare("ROLLBACK").run();
          throw err;
        }
      }),
    read: (fn) => exclusive(() => fn(ops)),
  };
}
