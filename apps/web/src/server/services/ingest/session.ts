import type { Principal } from "../auth";
import type { IngestSource } from "./batch-writer";

/**
 * What ingestion remembers about one client connection: who it is, the rank each of its
 * writers announced at init, and the tail of its batches (a connection's batches are applied
 * one after another, so a batch's rewind or end never overtakes the points before it).
 */
export type IngestSession = {
  principal: Principal;
  /** where batches are read from, paused while the database lags (absent: cannot pause) */
  source: IngestSource | undefined;
  /** "runId\0writer" → rank */
  ranks: Map<string, number>;
  chain: Promise<unknown>;
};

export function createIngestSession(principal: Principal, source?: IngestSource): IngestSession {
  return { principal, source, ranks: new Map(), chain: Promise.resolve() };
}

export const writerKey = (runId: string, writer: string) => `${runId}\0${writer}`;
