// Row mappers shared by the SQLite and PostgreSQL metrics ops: both drivers hand back plain
// objects whose numbers may be strings (pg's bigint) or null.
import type { CellRow, ChunkRow, SeriesRow } from "./ops";

export type Row = Record<string, unknown>;
export const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toChunk(r: Row): ChunkRow {
  return { key: r.key as string, startStep: Number(r.startStep), endStep: Number(r.endStep), count: Number(r.count), data: r.data as Buffer };
}
export function toCell(r: Row): CellRow {
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
    lastTs: num(r.lastTs),
  };
}
export function toSeries(r: Row): SeriesRow {
  const c = toCell({ ...r, level: 0, cell: 0 });
  return {
    runId: r.runId as string,
    key: c.key,
    firstStep: Number(r.firstStep),
    baseLevel: Number(r.baseLevel ?? 0),
    count: c.count,
    min: c.min,
    max: c.max,
    lastStep: c.lastStep,
    last: c.last,
    lastFiniteStep: c.lastFiniteStep,
    lastFinite: c.lastFinite,
    lastTs: c.lastTs,
  };
}
