/**
 * The metrics store — the product's core, so hand-written on the drivers instead of Prisma
 * (Prisma's createMany measured ~8k rows/s here; this path needs hundreds of thousands).
 *
 * Layout (three tables, same on SQLite and PostgreSQL; see prisma/schema/metrics.prisma):
 *
 * - MetricChunk: the points of one series (run, key) packed into chunks of up to 256
 *   consecutive points — steps, values and wall-clock ts as float64 arrays in one BLOB/bytea
 *   (codec.ts). Chunks of a series never overlap, so a million-point series is ~4,000 rows,
 *   an append rewrites at most its tail chunk, and a full-resolution read is a range scan of
 *   big rows instead of a million small ones. NaN/±Inf survive bit-exact in the BLOB.
 * - MetricRollup: summaries (count, finite min/max, last point and its ts, last finite point) of aligned
 *   step cells at 10 levels, 2^6 … 2^24 steps wide (×4 per level; cells.ts). A write adds its
 *   *new* points to the cells they fall in with one merge-upsert per cell; no read needed.
 *   A sparse series (logged every N steps) starts at a coarser base level, so no level holds
 *   one row per point (MetricSeries.baseLevel, chooseBaseLevel in cells.ts).
 * - MetricSeries: one row per series with the same summary over all its points: the runs
 *   table (summaries of 100 runs) and the query planner read only these.
 *
 * Writes serialize per run (SQLite: one connection, with group commit of queued batches in
 * one transaction, a SAVEPOINT each — sqlite-ops.ts; PostgreSQL: an advisory lock per run).
 *
 * Semantics: idempotent by (run, key, step) — a write merges into the chunks it touches and
 * points already stored win (first write wins; duplicated, retried or reordered batches
 * change nothing, and only genuinely new points reach the rollups). rewind(step) cuts chunks
 * after the step and rebuilds each level's boundary cell from the level below. Reads
 * (query.ts) answer ≤ maxPoints points exactly and otherwise bucket by the smallest
 * power-of-two width W giving ≤ maxPoints aligned buckets, built from the widest rollup level
 * ≤ W (≤ 2 cells per bucket) plus the raw points at clipped range edges.
 *
 * store.ts and query.ts decide what to read and write; sqlite-ops.ts and pg-ops.ts only run
 * statements, so the two providers share their semantics by construction.
 */
import { AppError, isSystemKey, lowerBound, type MetricPoint } from "@heron/core";

import { type Cell, cellsOf, chooseBaseLevel, mergeCells, SHIFTS, summarize, TOP_LEVEL, widthOf } from "./cells";
import { CHUNK_CAP, decodeChunk, encodeChunk, slicePoints } from "./codec";
import { normalizeBatch, planKeyWrite } from "./merge";
import type { CellRow, ChunkRow, MetricsIo, SeriesRow } from "./ops";
import { compareSeries, querySeries } from "./query";
import type { KeySummary, MetricsStore } from "./types";

// Long because it is one object literal: the MetricsStore methods, each over the same MetricsIo.
export function createStore(io: MetricsIo): MetricsStore {
  return {
    async write(runId, points, writer) {
      const byKey = normalizeBatch(points);
      if (byKey.size === 0 && !writer) return { inserted: 0 };
      return io.write(runId, async (ops) => {
        if (writer) await ops.advanceWriter(runId, writer.writer, writer.ackSeq);
        if (byKey.size === 0) return { inserted: 0 };
        const ranges = [...byKey].map(([key, p]) => ({ key, lo: p.steps[0]!, hi: p.steps[p.steps.length - 1]! }));
        const bases = await ops.baseLevels(runId, [...byKey.keys()]);
        const existing = new Map<string, ChunkRow[]>();
        for (const c of await ops.chunksForMerge(runId, ranges)) {
          const list = existing.get(c.key);
          if (list) list.push(c);
          else existing.set(c.key, [c]);
        }
        const deletes: { key: string; startStep: number }[] = [];
        const inserts: ChunkRow[] = [];
        const cells: CellRow[] = [];
        const series: SeriesRow[] = [];
        let inserted = 0;
        for (const [key, incoming] of byKey) {
          const plan = planKeyWrite(key, existing.get(key) ?? [], incoming);
          const n = plan.inserted.steps.length;
          if (n === 0) continue;
          inserted += n;
          for (const s of plan.deletes) deletes.push({ key, startStep: s });
          inserts.push(...plan.inserts);
          const base = bases.get(key) ?? chooseBaseLevel(incoming.steps);
          for (let level = base; level < SHIFTS.length; level++) {
            for (const c of cellsOf(plan.inserted, SHIFTS[level]!)) cells.push({ key, level, ...c });
          }
          series.push({ runId, key, firstStep: plan.inserted.steps[0]!, baseLevel: base, ...summarize(plan.inserted, 0, n) });
        }
        if (inserted === 0) return { inserted };
        await ops.deleteChunks(runId, deletes);
        await ops.insertChunks(runId, inserts);
        await ops.mergeCells(runId, cells);
        await ops.mergeSeries(runId, series);
        return { inserted };
      });
    },

    async rewind(runId, step, only) {
      if (!Number.isSafeInteger(step) || step < 0) throw new AppError("BAD_REQUEST", `step must be an integer in [0, 2^53), got ${step}`);
      return io.write(runId, async (ops) => {
        // sys/… series are stepped in wall-clock seconds, not training steps: never cut
        const affected = (await ops.series([runId])).filter((s) => s.lastStep > step && !isSystemKey(s.key) && (!only || only(s.key)));
        if (affected.length === 0) return { deleted: 0 };
        const keys = affected.map((s) => s.key);
        // points: drop whole chunks after `step`, truncate the ones straddling it
        const { dropped, straddling } = await ops.cutChunks(runId, step, keys);
        let deleted = dropped;
        const kept: ChunkRow[] = [];
        for (const c of straddling) {
          const p = decodeChunk(c.data, c.count);
          const n = lowerBound(p.steps, step + 1);
          deleted += c.count - n;
          kept.push({ key: c.key, startStep: c.startStep, endStep: p.steps[n - 1]!, count: n, data: encodeChunk(p, 0, n) });
        }
        await ops.deleteChunks(runId, straddling);
        await ops.insertChunks(runId, kept);
        // rollups: per level, drop cells from the boundary cell on and rebuild that cell from
        // the level below — or from raw points at the series' base level (≤ 4 gaps' worth of
        // points, or 4 cells, per rebuild)
        const baseOf = new Map(affected.map((s) => [s.key, s.baseLevel]));
        for (let level = 0; level <= TOP_LEVEL; level++) {
          const cell = Math.floor(step / widthOf(level));
          const live = keys.filter((k) => baseOf.get(k)! <= level);
          if (live.length === 0) continue;
          await ops.deleteCellsFrom(runId, live, level, cell);
          const rebuilt: CellRow[] = [];
          const lo = cell * widthOf(level);
          for (const key of live.filter((k) => baseOf.get(k) === level)) {
            const parts = (await ops.chunksIn(runId, key, lo, step)).map((c) => slicePoints(decodeChunk(c.data, c.count), lo, step));
            for (const p of parts.filter((x) => x.steps.length > 0)) rebuilt.push(...cellsOf(p, SHIFTS[level]!).map((c) => ({ key, level, ...c })));
          }
          const fromBelow = live.filter((k) => baseOf.get(k)! < level);
          if (fromBelow.length) {
            const below = await ops.cells(runId, null, level - 1, cell * 4, Math.floor(step / widthOf(level - 1)));
            for (const [key, list] of groupByKey(below)) if (fromBelow.includes(key)) rebuilt.push({ key, level, cell, ...combine(list) });
          }
          await ops.insertCells(runId, mergeSameCell(rebuilt));
        }
        // series rows: recombine from the top level's cells
        const top = groupByKey(await ops.cells(runId, null, TOP_LEVEL, 0, Number.MAX_SAFE_INTEGER));
        const rows: SeriesRow[] = [];
        const removed: string[] = [];
        for (const s of affected) {
          const list = top.get(s.key);
          if (!list?.length) removed.push(s.key);
          else rows.push({ runId, key: s.key, firstStep: s.firstStep, baseLevel: s.baseLevel, ...combine(list) });
        }
        await ops.replaceSeries(runId, rows, removed);
        return { deleted };
      });
    },

    series: (q) => io.read((ops) => querySeries(ops, q)),
    compare: (q) => io.read((ops) => compareSeries(ops, q)),

    async keys(runId) {
      return (await io.read((ops) => ops.series([runId]))).map((s) => s.key).sort();
    },

    async summaries(runIds) {
      const out: Record<string, Record<string, KeySummary>> = Object.fromEntries(runIds.map((id) => [id, {}]));
      if (runIds.length === 0) return out;
      for (const s of await io.read((ops) => ops.series(runIds))) {
        out[s.runId]![s.key] = {
          count: s.count,
          min: s.min,
          max: s.max,
          last: s.lastFinite,
          lastStep: s.lastFiniteStep,
          firstStep: s.firstStep,
          maxStep: s.lastStep,
        };
      }
      return out;
    },

    async *scan(runId, batchSize = 10_000) {
      let key = "";
      let start = -1;
      const perPage = Math.max(1, Math.ceil(batchSize / CHUNK_CAP));
      for (;;) {
        const chunks = await io.read((ops) => ops.scanChunks(runId, key, start, perPage));
        if (chunks.length === 0) return;
        const out: MetricPoint[] = [];
        for (const c of chunks) {
          const p = decodeChunk(c.data, c.count);
          for (let i = 0; i < c.count; i++) out.push({ key: c.key, step: p.steps[i]!, value: p.values[i]!, ts: p.ts[i]! });
        }
        yield out;
        const last = chunks[chunks.length - 1]!;
        key = last.key;
        start = last.startStep;
      }
    },

    async deleteRun(runId) {
      await io.write(runId, (ops) => ops.deleteRun(runId));
    },
  };
}

function groupByKey<T extends { key: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.key);
    if (list) list.push(r);
    else out.set(r.key, [r]);
  }
  return out;
}

/** summary of several disjoint cells (only the Cell fields: callers add key/level/cell) */
function combine(list: Cell[]): Cell {
  const f = list[0]!;
  let acc: Cell = {
    count: f.count,
    min: f.min,
    max: f.max,
    lastStep: f.lastStep,
    last: f.last,
    lastTs: f.lastTs,
    lastFiniteStep: f.lastFiniteStep,
    lastFinite: f.lastFinite,
  };
  for (let i = 1; i < list.length; i++) acc = mergeCells(acc, list[i]!);
  return acc;
}

/** a straddled level-0 cell can come from two chunks: fold same (key, cell) rows together */
function mergeSameCell(rows: CellRow[]): CellRow[] {
  const out: CellRow[] = [];
  for (const r of rows) {
    const prev = out[out.length - 1];
    if (prev && prev.key === r.key && prev.cell === r.cell) out[out.length - 1] = { ...prev, ...mergeCells(prev, r) };
    else out.push(r);
  }
  return out;
}
