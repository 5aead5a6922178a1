import {
  AppError,
  CheckpointChunkSchema,
  CheckpointCommitSchema,
  CheckpointLatestSchema,
  CheckpointReadSchema,
  ClaimSchema,
  JobLogsSchema,
  JobReportSchema,
  JobRewindSchema,
  RunnerDrainSchema,
  RunnerHeartbeatSchema,
  RunnerHelloSchema,
  SourceCheckpointLatestSchema,
  SourceCheckpointReadSchema,
} from "@heron/core";
import type { Logger } from "pino";

import type { RunnerPrincipal } from "../auth/principal";
import type { Services } from "../services";
import { createCheckpointStore, createSourceCheckpointAccess } from "../services/job-checkpoints";
import { handle } from "./handle";
import type { HeronIo, HeronSocket } from "./types";

/** A quarter of the TTL, at most 5 s: three heartbeats can be missed before a lease expires. */
export const heartbeatIntervalMs = (leaseTtlMs: number) => Math.max(100, Math.min(5000, Math.floor(leaseTtlMs / 4)));

/**
 * Events from runner daemons (authenticated by a runner token). Every write about a job is
 * fenced: it carries the lease's fencing token and is refused unless it is the current one.
 * Each runner's sockets join `runner:<id>` so a cancel issued on any server process reaches
 * it through the Redis adapter.
 */
export function registerRunnerHandlers(io: HeronIo, socket: HeronSocket, principal: RunnerPrincipal, services: Services, log: Logger) {
  const { runnerId, allowedQueues } = principal;
  const leaseTtlMs = services.jobs.leaseTtlMs;
  void socket.join([`runner:${runnerId}`, "runners"]);
  // the queues this connection asked for (claims need no database read for them)
  let queues: string[] | null = null;
  socket.on(
    "runner:hello",
    handle(log, "runner:hello", RunnerHelloSchema, async (info) => {
      // the token fixes the queues: a runner cannot pick up another team's work by asking for it
      const refused = info.queues.filter((q) => !allowedQueues.includes(q));
      if (refused.length)
        throw new AppError("FORBIDDEN", `this runner token may serve only the queues ${allowedQueues.join(", ")}; refused: ${refused.join(", ")}`);
      await services.runners.hello(runnerId, info);
      queues = info.queues;
      return { runnerId, leaseTtlMs, heartbeatMs: heartbeatIntervalMs(leaseTtlMs) };
    }),
  );
  socket.on(
    "runner:claim",
    handle(log, "runner:claim", ClaimSchema, async () => {
      if (!queues) throw new AppError("BAD_REQUEST", "send runner:hello before claiming");
      return { lease: await services.jobs.claim(runnerId, queues) };
    }),
  );
  socket.on(
    "runner:heartbeat",
    handle(log, "runner:heartbeat", RunnerHeartbeatSchema, async (input) => services.jobs.heartbeat(runnerId, input.leases)),
  );
  socket.on(
    "runner:drain",
    handle(log, "runner:drain", RunnerDrainSchema, async () => {
      await services.runners.setStatus(runnerId, "draining");
      return {};
    }),
  );
  socket.on(
    "job:report",
    handle(log, "job:report", JobReportSchema, async (input) => {
      await services.jobs.report(runnerId, input);
      return {};
    }),
  );
  socket.on(
    "job:logs",
    handle(log, "job:logs", JobLogsSchema, async (input) => {
      const job = await services.jobs.assertLease(runnerId, input);
      if (job.runId) await services.runs.appendLogs(job.runId, input.lines);
      return {};
    }),
  );
  socket.on(
    "job:rewind",
    handle(log, "job:rewind", JobRewindSchema, async (input) => services.jobs.rewind(runnerId, input)),
  );
  socket.on(
    "job:checkpoint:chunk",
    handle(log, "job:checkpoint:chunk", CheckpointChunkSchema, async (input) => {
      await services.jobs.checkpoints.putChunk(runnerId, input);
      return {};
    }),
  );
  socket.on(
    "job:checkpoint:commit",
    handle(log, "job:checkpoint:commit", CheckpointCommitSchema, async (input) => {
      await services.jobs.checkpoints.commit(runnerId, input);
      return {};
    }),
  );
  socket.on(
    "job:checkpoint:latest",
    handle(log, "job:checkpoint:latest", CheckpointLatestSchema, async (input) => ({ checkpoint: await services.jobs.checkpoints.latest(runnerId, input) })),
  );
  socket.on(
    "job:checkpoint:read",
    handle(log, "job:checkpoint:read", CheckpointReadSchema, async (input) => ({ data: await services.jobs.checkpoints.read(runnerId, input) })),
  );
  // a teacher/base checkpoint of another job, fetched under this job's lease
  const sources = createSourceCheckpointAccess(createCheckpointStore(services.prisma), services.jobs.assertLease);
  socket.on(
    "job:source-checkpoint:latest",
    handle(log, "job:source-checkpoint:latest", SourceCheckpointLatestSchema, async (input) => ({ checkpoint: await sources.latest(runnerId, input) })),
  );
  socket.on(
    "job:source-checkpoint:read",
    handle(log, "job:source-checkpoint:read", SourceCheckpointReadSchema, async (input) => ({ data: await sources.read(runnerId, input) })),
  );
  socket.on("disconnect", () => {
    // leases survive a disconnect until their TTL: the daemon may reconnect and re-attach.
    // Only this process's sockets are checked (no Redis round trip while shutting down); a
    // runner that reconnected to another server process is set online by its next heartbeat.
    void io.local
      .in(`runner:${runnerId}`)
      .fetchSockets()
      .then((others) => (others.length === 0 ? services.runners.setStatus(runnerId, "offline") : undefined))
      .catch(() => undefined);
  });
}
