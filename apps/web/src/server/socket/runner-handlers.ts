import { AppError, ClaimSchema, JobLogsSchema, JobReportSchema, RunnerHeartbeatSchema, RunnerHelloSchema } from "@heron/core";
import type { Logger } from "pino";
import type { Services } from "../services";
import { handle } from "./handle";
import type { HeronIo, HeronSocket } from "./types";

/** Events from runner daemons (authenticated by a runner token). */
export function registerRunnerHandlers(io: HeronIo, socket: HeronSocket, runnerId: string, services: Services, log: Logger) {
  void socket.join([`runner:${runnerId}`, "runners"]);
  socket.on(
    "runner:hello",
    handle(log, "runner:hello", RunnerHelloSchema, async (info) => {
      await services.runners.hello(runnerId, info);
      return { runnerId };
    }),
  );
  socket.on("runner:claim", handle(log, "runner:claim", ClaimSchema, async () => ({ lease: await services.jobs.claim(runnerId) })));
  socket.on(
    "runner:heartbeat",
    handle(log, "runner:heartbeat", RunnerHeartbeatSchema, async (input) => ({ stale: await services.jobs.heartbeat(runnerId, input.leases) })),
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
      const job = await services.jobs.get(input.jobId);
      if (job.runnerId !== runnerId || job.fencingToken !== input.fencingToken || !job.runId) throw new AppError("CONFLICT", `stale fencing token for job ${input.jobId}`);
      await services.runs.appendLogs(job.runId, input.lines);
      return {};
    }),
  );
  socket.on("disconnect", async () => {
    const others = await io.in(`runner:${runnerId}`).fetchSockets();
    if (others.length === 0) await services.runners.setStatus(runnerId, "offline").catch(() => undefined);
  });
}
