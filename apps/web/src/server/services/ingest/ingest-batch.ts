import type { RunLog } from "@heron/core";

import type { IngestDeps } from ".";
import { batchBytes } from "./batch-writer";
import { batchForRank, writerRank } from "./ranks";
import { type IngestSession, writerKey } from "./session";

/**
 * Applies one sequenced batch of a run: its records (texts, images, logs, rewind, config,
 * environment), its points, then its end or summary. Back-pressure by bytes stops reading the
 * session's source while the database lags. Resolves with the writer's acked sequence.
 */
export function ingestBatch(deps: IngestDeps, session: IngestSession, input: RunLog): Promise<{ ackSeq: number; written: number }> {
  const rank = writerRank(input.writer, session.ranks.get(writerKey(input.runId, input.writer)));
  const batch = batchForRank(input, rank);
  const next = deps.writer.guard(session.source, batchBytes(batch), () => session.chain.then(() => applyBatch(deps, batch, rank)));
  session.chain = next.catch(() => undefined);
  return next;
}

async function applyBatch({ services, writer }: IngestDeps, batch: RunLog, rank: number) {
  // records beside the points are applied only for a batch not yet acked: a late duplicate
  // of an old batch must not rewind or end the run again
  const fresh = batch.seq > (await writer.lastSeq(batch.runId, batch.writer));
  if (fresh) await services.runs.applyRecords(batch, rank);
  // queued, never awaited: a webhook cannot slow the batch
  if (fresh && batch.alerts?.length) void services.alerts.onSdkAlerts(batch.runId, batch.alerts);
  const ack = await writer.ingest(batch);
  if (fresh && batch.end) {
    await services.runs.finish(batch.runId, batch.end.state, batch.end.error, batch.summary);
    services.notifier.runStatus(batch.runId, batch.end.state);
  } else {
    if (fresh && batch.summary) await services.runs.mergeSummary(batch.runId, batch.summary);
    await reviveRun({ services }, batch.runId);
  }
  return ack;
}

/** a run shown stale that speaks again is running again, at once */
export async function reviveRun({ services }: Pick<IngestDeps, "services">, runId: string) {
  if (await services.runs.revive(runId)) services.notifier.runStatus(runId, "running");
}
