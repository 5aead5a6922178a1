import type { Cell, IndexedCell } from "./cells";

export type ChunkRow = { key: string; startStep: number; endStep: number; count: number; data: Uint8Array };
export type CellRow = IndexedCell & { key: string; level: number };
export type SeriesRow = Cell & { runId: string; key: string; firstStep: number; baseLevel: number };

/**
 * The few statements the store needs, implemented once per driver (sqlite-ops.ts, pg-ops.ts).
 * Everything that decides *what* to read and write lives in store.ts, shared, so both
 * providers have the same semantics by construction.
 */
export type MetricsOps = {
  /** per range: the last chunk starting at or before lo, and every chunk starting in (that, hi] */
  chunksForMerge(runId: string, ranges: { key: string; lo: number; hi: number }[]): Promise<ChunkRow[]>;
  /** chunks of one series overlapping [lo, hi], by startStep */
  chunksIn(runId: string, key: string, lo: number, hi: number): Promise<ChunkRow[]>;
  /** chunks of a run in (key, startStep) order after the cursor */
  scanChunks(runId: string, afterKey: string, afterStart: number, limit: number): Promise<ChunkRow[]>;
  deleteChunks(runId: string, refs: { key: string; startStep: number }[]): Promise<void>;
  insertChunks(runId: string, rows: ChunkRow[]): Promise<void>;
  /** deletes the chunks of `keys` starting after `step`; returns the points they held, and those keys' chunks straddling `step` */
  cutChunks(runId: string, step: number, keys: string[]): Promise<{ dropped: number; straddling: ChunkRow[] }>;
  /** upsert that adds a disjoint set of points to each cell (see mergeCells in cells.ts) */
  mergeCells(runId: string, rows: CellRow[]): Promise<void>;
  insertCells(runId: string, rows: CellRow[]): Promise<void>;
  /** cells of one level in [c0, c1]; key null = every key of the run */
  cells(runId: string, key: string | null, level: number, c0: number, c1: number): Promise<CellRow[]>;
  deleteCellsFrom(runId: string, keys: string[], level: number, cell: number): Promise<void>;
  mergeSeries(runId: string, rows: SeriesRow[]): Promise<void>;
  replaceSeries(runId: string, rows: SeriesRow[], removed: string[]): Promise<void>;
  series(runIds: string[], key?: string): Promise<SeriesRow[]>;
  /** baseLevel of the series that exist among `keys` */
  baseLevels(runId: string, keys: string[]): Promise<Map<string, number>>;
  deleteRun(runId: string): Promise<void>;
  /** RunWriter.lastSeq = max(lastSeq, seq) — the table belongs to the run model (core.prisma) */
  advanceWriter(runId: string, writer: string, seq: number): Promise<void>;
};

/** How a driver runs ops: writes serialized per run inside one transaction; reads. */
export type MetricsIo = {
  write<T>(runId: string, fn: (ops: MetricsOps) => Promise<T>): Promise<T>;
  read<T>(fn: (ops: MetricsOps) => Promise<T>): Promise<T>;
};
