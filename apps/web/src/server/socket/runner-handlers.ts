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
  type RunnerToServer,
  SourceCheckpointLatestSchema,
  SourceCheckpointReadSchema,
} from "@heron/core";
import type { Logger } from "pino";

import type { RunnerPrincipal } from "../auth/principal";
import type { Services } from "../services";
import { createSourceCheckpointAccess } from "../services/job-checkpoints";
import { registerRoutes, route, type RouteTable } from "./handle";
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
  let allowCommands = false;
  // a teacher/base checkpoint of another job, fetched under this job's lease
  const sources = createSourceCheckpointAccess(services.jobs.checkpointStore, services.jobs.assertLease);
  const routes: RouteTable<RunnerToServer> = {
    "runner:hello": route(RunnerHelloSchema, async (info) => {
      // the token fixes the queues: a runner cannot pick up another team's work by asking for it
      const refused = info.queues.filter((q) => !allowedQueues.includes(q));
      if (refused.length)
        throw new AppError("FORBIDDEN", `this runner token may serve only the queues ${allowedQueues.join(", ")}; refused: ${refused.join(", ")}`);
      await services.runners.hello(runnerId, info);
      queues = info.queues;
      allowCommands = info.allowCommands === true;
      return { runnerId, leaseTtlMs, heartbeatMs: heartbeatIntervalMs(leaseTtlMs) };
    }),
    "runner:claim": route(ClaimSchema, async () => {
      if (!queues) throw new AppError("BAD_REQUEST", "send runner:hello before claiming");
      return { lease: await services.jobs.claim(runnerId, queues, allowCommands) };
    }),
    "runner:heartbeat": route(RunnerHeartbeatSchema, (input) => services.jobs.heartbeat(runnerId, input.leases)),
    "runner:drain": route(RunnerDrainSchema, async () => {
      await services.runners.setStatus(runnerId, "draining");
      return {};
    }),
    "job:report": route(JobReportSchema, async (input) => {
      await services.jobs.report(runnerId, input);
      return {};
    }),
    "job:logs": route(JobLogsSchema, async (input) => {
      const job = await services.jobs.assertLease(runnerId, input);
      if (job.runId) await services.runs.appendLogs(job.runId, input.lines);
      return {};
    }),
    "job:rewind": route(JobRewindSchema, (input) => services.jobs.rewind(runnerId, input)),
    "job:checkpoint:chunk": route(CheckpointChunkSchema, async (input) => {
      await services.jobs.checkpoints.putChunk(runnerId, input);
      return {};
    }),
    "job:checkpoint:commit": route(CheckpointCommitSchema, async (input) => {
      await services.jobs.checkpoints.commit(runnerId, input);
      return {};
    }),
    "job:checkpoint:latest": route(CheckpointLatestSchema, async (input) => ({ checkpoint: await services.jobs.checkpoints.latest(runnerId, input) })),
    "job:checkpoint:read": route(CheckpointReadSchema, async (input) => ({ data: await services.jobs.checkpoints.read(runnerId, input) })),
    "job:source-checkpoint:latest": route(SourceCheckpointLatestSchema, async (input) => ({ checkpoint: await sources.latest(runnerId, input) })),
    "job:source-checkpoint:read": route(SourceCheckpointReadSchema, async (input) => ({ data: await sources.read(runnerId, input) })),
  };
  registerRoutes(socket, log, routes);
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
