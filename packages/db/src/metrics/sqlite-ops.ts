import type BetterSqlite3 from "better-sqlite3";

import { withoutBusyWait } from "../sqlite-busy";
import type { CellRow, ChunkRow, MetricsIo, MetricsOps, SeriesRow } from "./ops";
import { type Row, toCell, toChunk, toSeries } from "./rows";
import { CELL_COLS, mergeSet, SERIES_MERGE_EXTRA } from "./sql";

const MULTI = 32;

// order = CELL_COLS
const cellArgs = (c: CellRow | SeriesRow) => [c.count, c.min, c.max, c.lastStep, c.last, c.lastFiniteStep, c.lastFinite, c.lastTs];
const CELL_ROW = "(?,?,?,?,?,?,?,?,?,?,?,?)";

/**
 * better-sqlite3 is synchronous and the store's connection is shared, so every store call
 * holds a promise mutex for its whole duration: a write's BEGIN…COMMIT can then never
 * interleave with another call's statements on the same connection.
 * Long because it is one object literal: the prepared statements and the MetricsOps methods
 * that use them, sharing the connection and the mutex.
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
    scan: db.prepare(
      `SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND ("key" > ? OR ("key" = ? AND "startStep" > ?)) ORDER BY "key","startStep" LIMIT ?`,
    ),
    delChunk: db.prepare(`DELETE FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep"=?`),
    insChunk: db.prepare(`INSERT INTO "MetricChunk" ("runId","key","startStep","endStep","count","data") VALUES (?,?,?,?,?,?)`),
    cutCount: db.prepare(`SELECT coalesce(sum("count"),0) FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" > ?`).pluck(),
    cutDel: db.prepare(`DELETE FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" > ?`),
    straddling: db.prepare(`SELECT ${chunkCols} FROM "MetricChunk" WHERE "runId"=? AND "key"=? AND "startStep" <= ? AND "endStep" > ?`),
    mergeCell: db.prepare(`INSERT INTO "MetricRollup" AS t ("runId",${cellCols}) VALUES ${CELL_ROW} ON CONFLICT DO UPDATE SET ${mergeSet("t")}`),
    // a write touches ~10 cells per key: one statement for many rows saves a VM run per row
    mergeCells: db.prepare(
      `INSERT INTO "MetricRollup" AS t ("runId",${cellCols}) VALUES ${Array(MULTI).fill(CELL_ROW).join(",")} ON CONFLICT DO UPDATE SET ${mergeSet("t")}`,
    ),
    insCell: db.prepare(`INSERT INTO "MetricRollup" ("runId",${cellCols}) VALUES ${CELL_ROW}`),
    // raw rows (arrays): a dashboard query reads up to ~2,000 of these, objects cost more
    cellsKey: db.prepare(`SELECT ${cellCols} FROM "MetricRollup" WHERE "runId"=? AND "key"=? AND "level"=? AND "cell" BETWEEN ? AND ? ORDER BY "cell"`).raw(),
    cellsAll: db.prepare(`SELECT ${cellCols} FROM "MetricRollup" WHERE "runId"=? AND "level"=? AND "cell" BETWEEN ? AND ? ORDER BY "key","cell"`),
    delCells: db.prepare(`DELETE FROM "MetricRollup" WHERE "runId"=? AND "key"=? AND "level"=? AND "cell" >= ?`),
    mergeSeries: db.prepare(
      `INSERT INTO "MetricSeries" AS t ("runId","key","firstStep","baseLevel",${CELL_COLS}) VALUES ${CELL_ROW} ON CONFLICT DO UPDATE SET ${mergeSet("t")}${SERIES_MERGE_EXTRA("t")}`,
    ),
    putSeries: db.prepare(`INSERT OR REPLACE INTO "MetricSeries" ("runId","key","firstStep","baseLevel",${CELL_COLS}) VALUES ${CELL_ROW}`),
    delSeries: db.prepare(`DELETE FROM "MetricSeries" WHERE "runId"=? AND "key"=?`),
    seriesRun: db.prepare(`SELECT * FROM "MetricSeries" WHERE "runId"=? ORDER BY "key"`),
    writer: db.prepare(
      `INSERT INTO "RunWriter" ("runId","writer","lastSeq") VALUES (?,?,?) ON CONFLICT DO UPDATE SET "lastSeq" = max("lastSeq", excluded."lastSeq")`,
    ),
    baseLevel: db.prepare(`SELECT "baseLevel" FROM "MetricSeries" WHERE "runId"=? AND "key"=?`).pluck(),
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
    async cutChunks(runId, step, keys) {
      let dropped = 0;
      const straddling: ChunkRow[] = [];
      for (const key of keys) {
        dropped += Number(s.cutCount.get(runId, key, step));
        s.cutDel.run(runId, key, step);
        straddling.push(...(s.straddling.all(runId, key, step, step) as Row[]).map(toChunk));
      }
      return { dropped, straddling };
    },
    async mergeCells(runId, rows) {
      let i = 0;
      for (; i + MULTI <= rows.length; i += MULTI) {
        const args: unknown[] = [];
        for (let j = i; j < i + MULTI; j++) {
          const c = rows[j]!;
          args.push(runId, c.key, c.level, c.cell, ...cellArgs(c));
        }
        s.mergeCells.run(args);
      }
      for (; i < rows.length; i++) {
        const c = rows[i]!;
        s.mergeCell.run(runId, c.key, c.level, c.cell, ...cellArgs(c));
      }
    },
    async insertCells(runId, rows) {
      for (const c of rows) s.insCell.run(runId, c.key, c.level, c.cell, ...cellArgs(c));
    },
    async cells(runId, key, level, c0, c1) {
      if (key === null) return (s.cellsAll.all(runId, level, c0, c1) as Row[]).map(toCell);
      return (s.cellsKey.all(runId, key, level, c0, c1) as unknown[][]).map((r) => ({
        key: r[0] as string,
        level: r[1] as number,
        cell: r[2] as number,
        count: r[3] as number,
        min: r[4] as number | null,
        max: r[5] as number | null,
        lastStep: r[6] as number,
        last: r[7] as number | null,
        lastFiniteStep: r[8] as number | null,
        lastFinite: r[9] as number | null,
        lastTs: r[10] as number | null,
      }));
    },
    async deleteCellsFrom(runId, keys, level, cell) {
      for (const k of keys) s.delCells.run(runId, k, level, cell);
    },
    async mergeSeries(runId, rows) {
      for (const r of rows) s.mergeSeries.run(runId, r.key, r.firstStep, r.baseLevel, ...cellArgs(r));
    },
    async replaceSeries(runId, rows, removed) {
      for (const r of rows) s.putSeries.run(runId, r.key, r.firstStep, r.baseLevel, ...cellArgs(r));
      for (const k of removed) s.delSeries.run(runId, k);
    },
    async series(runIds, key) {
      if (key !== undefined) return runIds.flatMap((id) => (s.seriesKey.all(id, key) as Row[]).map(toSeries));
      return runIds.flatMap((id) => (s.seriesRun.all(id) as Row[]).map(toSeries));
    },
    async advanceWriter(runId, writer, seq) {
      s.writer.run(runId, writer, seq);
    },
    async baseLevels(runId, keys) {
      const out = new Map<string, number>();
      for (const k of keys) {
        const v = s.baseLevel.get(runId, k);
        if (v !== undefined) out.set(k, Number(v));
      }
      return out;
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

  // Group commit: writes that arrive while the connection is busy are committed together in
  // one transaction, each inside its own SAVEPOINT (a failing batch rolls back alone and gets
  // its error; the others commit). Every batch is still atomic and durable before its promise
  // resolves — but a commit rewrites the hot pages (index tails, WAL frames) once per group
  // instead of once per batch, which is most of SQLite's per-commit cost.
  type Pending = { fn: (ops: MetricsOps) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };
  let pending: Pending[] = [];
  let scheduled = false;
  async function flush() {
    scheduled = false;
    const group = pending;
    pending = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      // the transaction stays open across awaits (store.ts is async for PostgreSQL's sake), so
      // Prisma's connection may find the file locked meanwhile: it retries without blocking
      // (sqlite-busy.ts) — and neither does this BEGIN block while Prisma holds the lock
      await withoutBusyWait(db, () => db.prepare("BEGIN IMMEDIATE").run());
      try {
        for (const w of group) {
          db.prepare("SAVEPOINT heron_batch").run();
          try {
            results.push({ ok: true, value: await w.fn(ops) });
            db.prepare("RELEASE heron_batch").run();
          } catch (err) {
            db.prepare("ROLLBACK TO heron_batch").run();
            db.prepare("RELEASE heron_batch").run();
            results.push({ ok: false, value: err });
          }
        }
        db.prepare("COMMIT").run();
      } catch (err) {
        if (db.inTransaction) db.prepare("ROLLBACK").run();
        throw err;
      }
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => (results[i]!.ok ? w.resolve(results[i]!.value) : w.reject(results[i]!.value)));
  }
  return {
    write: <T>(_runId: string, fn: (ops: MetricsOps) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          void exclusive(flush);
        }
      }),
    read: (fn) => exclusive(() => fn(ops)),
  };
}
