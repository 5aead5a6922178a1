import type http from "node:http";
import { Server, type Socket } from "socket.io";
import type { Logger } from "pino";
import {
  AppError,
  ClaimSchema,
  JobLogsSchema,
  JobReportSchema,
  RunConfigUpdateSchema,
  RunFinishSchema,
  RunInitSchema,
  RunLogSchema,
  RunnerHeartbeatSchema,
  RunnerHelloSchema,
  SubscribeSchema,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from "@heron/core";
import type { Services } from "../services";
import type { Principal } from "../services/auth";
import { createIngestService } from "../services/ingest";
import { handle } from "./handle";

type SocketData = { principal: Principal };
export type HeronIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type HeronSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export function attachSocketServer(httpServer: http.Server, services: Services, log: Logger, publicUrl: string): HeronIo {
  const io: HeronIo = new Server(httpServer, { path: "/socket.io", maxHttpBufferSize: 16 * 1024 * 1024, serveClient: false });
  const ingest = createIngestService(services.prisma, services.metrics, (runId, event) => io.to(`run:${runId}`).emit("points", event));

  services.notifier.bind({
    workAvailable: () => io.to("runners").emit("work:available"),
    cancelJob: (runnerId, jobId) => io.to(`runner:${runnerId}`).emit("job:cancel", { jobId }),
    runStatus: (runId, status) => io.to(`run:${runId}`).emit("run:status", { runId, status: status as never }),
  });

  io.use(async (socket, next) => {
    try {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const token = typeof auth?.token === "string" ? auth.token : undefined;
      const principal = await services.auth.authenticate(token);
      if (!principal) return next(new Error("unauthorized: missing or invalid key"));
      socket.data.principal = principal;
      next();
    } catch (err) {
      log.error({ err }, "socket auth failed");
      next(new Error("internal server error"));
    }
  });

  io.on("connection", (socket) => {
    const p = socket.data.principal;
    if (p.kind === "runner") registerRunner(socket, p.runnerId);
    else registerClient(socket, p);
  });

  /** A job's SDK may only touch its own run; API keys may touch any run. */
  function assertRunAccess(p: Principal, runId: string) {
    if (p.kind === "job" && p.runId !== runId) throw new AppError("FORBIDDEN", `this job's credentials cannot write to run ${runId}`);
    if (p.kind === "runner") throw new AppError("FORBIDDEN", "runner tokens cannot write runs directly");
  }

  function registerClient(socket: HeronSocket, p: Principal) {
    socket.on(
      "run:init",
      handle(log, "run:init", RunInitSchema, async (input) => {
        const forcedRunId = p.kind === "job" ? p.runId : undefined;
        const { run, project, resumed, lastStep } = await services.runs.init(input, { forcedRunId });
        const lastSeq = await ingest.lastSeq(run.id, String(input.rank ?? 0));
        io.to(`project:${project.id}`).emit("run:status", { runId: run.id, status: "running" });
        return { runId: run.id, projectId: project.id, resumed, lastStep, lastSeq, url: `${publicUrl}/runs/${run.id}` };
      }),
    );
    socket.on(
      "run:log",
      handle(log, "run:log", RunLogSchema, async (batch) => {
        assertRunAccess(p, batch.runId);
        return ingest.ingest(batch);
      }),
    );
    socket.on(
      "run:finish",
      handle(log, "run:finish", RunFinishSchema, async (input) => {
        assertRunAccess(p, input.runId);
        await services.runs.finish(input.runId, input.state, input.error, input.summary);
        io.to(`run:${input.runId}`).emit("run:status", { runId: input.runId, status: input.state });
        return {};
      }),
    );
    socket.on(
      "run:config",
      handle(log, "run:config", RunConfigUpdateSchema, async (input) => {
        assertRunAccess(p, input.runId);
        await services.runs.updateConfig(input.runId, input.config);
        return {};
      }),
    );
    socket.on(
      "run:heartbeat",
      handle(log, "run:heartbeat", SubscribeSchema, async (input) => {
        assertRunAccess(p, input.runId);
        await services.runs.heartbeat(input.runId);
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

  function registerRunner(socket: HeronSocket, runnerId: string) {
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

  return io;
}
