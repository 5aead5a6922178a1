import type { CompareQuery, MetricPoint, Series, SeriesQuery } from "@heron/core";

/** last/lastStep: the last finite value and its step; maxStep: the highest step of any point */
export type KeySummary = {
  last: number | null;
  lastStep: number | null;
  min: number | null;
  max: number | null;
  count: number;
  firstStep: number;
  maxStep: number;
};

/**
 * The metrics store: the hot path for metric points. Same semantics on SQLite and PostgreSQL.
 * - write: idempotent by (run, key, step) — a retried or duplicated batch changes nothing.
 * - rewind: drops every point with step > `step` (resume from a checkpoint overwrites the tail).
 * - NaN/±Inf are kept as such; summaries ignore them.
 */
export type MetricsStore = {
  /**
   * Writes one batch durably in one transaction; returns how many points were new. With
   * `writer`, the same transaction raises RunWriter.lastSeq to `ackSeq` (never lowers it), so
   * an acknowledged sequence number and its points are durable together.
   */
  write(runId: string, points: MetricPoint[], writer?: { writer: string; ackSeq: number }): Promise<{ inserted: number }>;
  /** `only`: cut just the series it accepts (one rank's series of a distributed run) */
  rewind(runId: string, step: number, only?: (key: string) => boolean): Promise<{ deleted: number }>;
  series(q: SeriesQuery): Promise<Series>;
  /** one series per run (with `runId` set), over a shared step range */
  compare(q: CompareQuery): Promise<Series[]>;
  keys(runId: string): Promise<string[]>;
  /** per run, per key: last/min/max over finite values */
  summaries(runIds: string[]): Promise<Record<string, Record<string, KeySummary>>>;
  /** every point of a run in (key, step) order, for CSV export */
  scan(runId: string, batchSize?: number): AsyncIterable<MetricPoint[]>;
  deleteRun(runId: string): Promise<void>;
};
