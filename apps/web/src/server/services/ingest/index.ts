import type { RunFinish, RunInit, RunLog } from "@heron/core";
import type { MetricsStore, PrismaClient } from "@heron/db";

import type { AlertService } from "../alerts";
import type { MemberService } from "../members";
import type { Notifier } from "../notifier";
import type { RunService } from "../runs";
import { type BatchWriter, createBatchWriter } from "./batch-writer";
import { ingestBatch, reviveRun } from "./ingest-batch";
import { initRun } from "./init-run";
import type { IngestSession } from "./session";

export type { IngestSource } from "./batch-writer";
export { createIngestSession, type IngestSession } from "./session";

export type IngestDeps = {
  services: { prisma: PrismaClient; runs: RunService; members: MemberService; notifier: Notifier; alerts: Pick<AlertService, "onSdkAlerts"> };
  writer: BatchWriter;
  /** the server's public base URL, for the run link in run:init's answer */
  publicUrl: () => string;
};

/**
 * What a tracking client does to a run, whatever carries it (socket.io today): init, send
 * batches, heartbeat, finish. Authorization has happened before these are called.
 */
export function createIngest(services: IngestDeps["services"], metrics: MetricsStore, publicUrl: () => string) {
  const writer = createBatchWriter(services.prisma, metrics, (runId, event) => services.notifier.livePoints(runId, event));
  const deps: IngestDeps = { services, writer, publicUrl };
  return {
    initRun: (session: IngestSession, input: RunInit) => initRun(deps, session, input),
    ingestBatch: (session: IngestSession, batch: RunLog) => ingestBatch(deps, session, batch),
    async heartbeat(runId: string) {
      await services.runs.heartbeat(runId);
      await reviveRun(deps, runId);
    },
    async finishRun(input: RunFinish) {
      await services.runs.finish(input.runId, input.state, input.error, input.summary);
      services.notifier.runStatus(input.runId, input.state);
    },
    /** for tests and metrics: what the batch writer holds in memory */
    stats: () => writer.stats(),
  };
}
export type IngestService = ReturnType<typeof createIngest>;
