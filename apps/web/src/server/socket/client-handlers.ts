import { RunConfigUpdateSchema, RunFinishSchema, RunInitSchema, RunLogSchema, type RunStatus, SubscribeSchema } from "@heron/core";
import type { Logger } from "pino";

import type { Services } from "../services";
import type { Principal } from "../services/auth";
import { batchBytes, batchForRank, type IngestService, socketSource, writerRank } from "../services/ingest";
import { handle } from "./handle";
import type { HeronIo, HeronSocket } from "./types";

/** Events from tracking SDKs (users' scripts and jobs) and dashboards. */
export function registerClientHandlers(
  io: HeronIo,
  socket: HeronSocket,
  p: Principal,
  services: Services,
  ingest: IngestService,
  log: Logger,
  publicUrl: () => string,
) {
  // Who may send which event about which run is decided before these handlers run
  // (authorize-events.ts, from the policy table): a job token reaches only its own run.
  /** the rank each writer of this connection announced in run:init ("runId\0writer" → rank) */
  const ranks = new Map<string, number>();
  socket.on(
    "run:init",
    handle(log, "run:init", RunInitSchema, async (input) => {
      const forcedRunId = p.kind === "job" ? p.runId : undefined;
      const rank = input.rank ?? 0;
      // rank 0 owns the run's metadata (config, environment, name, tags, group, notes, host) and
      // its state: another rank joining (or coming back) changes none of it, and must not bring
      // a run rank 0 already ended back to running
      const asInit =
        rank === 0
          ? input
          : {
              ...input,
              config: undefined,
              environment: undefined,
              name: undefined,
              tags: undefined,
              group: undefined,
              notes: undefined,
              host: undefined,
              sync: true,
            };
      const isNewProject =
        p.kind === "user" && !!p.userId && !(await services.prisma.project.findUnique({ where: { name: input.project }, select: { id: true } }));
      const { run, project, resumed, lastStep } = await services.runs.init(asInit, { forcedRunId });
      // a project created by a user's first run is theirs to manage
      if (isNewProject && p.kind === "user" && p.userId) await services.members.set(project.id, p.userId, "maintainer");
      const writer = input.writer ?? String(rank);
      ranks.set(`${run.id}\0${writer}`, rank);
      const lastSeq = await ingest.lastSeq(run.id, writer);
      io.to(`project:${project.id}`).emit("run:status", { runId: run.id, status: run.status as RunStatus });
      return {
        runId: run.id,
        projectId: project.id,
        resumed,
        lastStep,
        lastSeq,
        url: `${publicUrl()}/runs/${run.id}`,
        status: run.status,
        startedAt: run.createdAt.getTime(),
      };
    }),
  );
  // Batches of one socket are applied one after another: a batch's rewind or end must not
  // overtake the points of the batch before it (the SDK pipelines a few batches).
  let chain: Promise<unknown> = Promise.resolve();
  const source = socketSource(socket.conn);
  socket.on(
    "run:log",
    handle(log, "run:log", RunLogSchema, (input) => {
      const rank = writerRank(input.writer, ranks.get(`${input.runId}\0${input.writer}`));
      const batch = batchForRank(input, rank);
      // guard: backpressure by bytes (stop reading this socket while the database lags)
      const next = ingest.guard(source, batchBytes(batch), () =>
        chain.then(async () => {
          // records beside the points are applied only for a batch not yet acked: a late
          // duplicate of an old batch must not rewind or end the run again
          const fresh = batch.seq > (await ingest.lastSeq(batch.runId, batch.writer));
          if (fresh) await services.runs.applyRecords(batch, rank);
          const ack = await ingest.ingest(batch);
          if (fresh && batch.end) {
            await services.runs.finish(batch.runId, batch.end.state, batch.end.error, batch.summary);
            io.to(`run:${batch.runId}`).emit("run:status", { runId: batch.runId, status: batch.end.state });
          } else {
            if (fresh && batch.summary) await services.runs.mergeSummary(batch.runId, batch.summary);
            await revive(batch.runId);
          }
          return ack;
        }),
      );
      chain = next.catch(() => undefined);
      return next;
    }),
  );
  /** a run shown stale that speaks again is running again, at once */
  async function revive(runId: string) {
    if (await services.runs.revive(runId)) io.to(`run:${runId}`).emit("run:status", { runId, status: "running" });
  }
  socket.on(
    "run:finish",
    handle(log, "run:finish", RunFinishSchema, async (input) => {
      await services.runs.finish(input.runId, input.state, input.error, input.summary);
      io.to(`run:${input.runId}`).emit("run:status", { runId: input.runId, status: input.state });
      return {};
    }),
  );
  socket.on(
    "run:config",
    handle(log, "run:config", RunConfigUpdateSchema, async (input) => {
      await services.runs.updateConfig(input.runId, input.config);
      return {};
    }),
  );
  socket.on(
    "run:heartbeat",
    handle(log, "run:heartbeat", SubscribeSchema, async (input) => {
      await services.runs.heartbeat(input.runId);
      await revive(input.runId);
      return {};
    }),
  );
  socket.on(
    "subscribe",
    handle(log, "subscribe", SubscribeSchema, async (input) => {
      await services.runs.get(input.runId);
      await socket.join(`run:${input.runId}`);
      return {};
    }),
  );
  socket.on("unsubscribe", (payload) => {
    const parsed = SubscribeSchema.safeParse(payload);
    if (parsed.success) void socket.leave(`run:${parsed.data.runId}`);
  });
}
