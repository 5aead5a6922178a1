import type http from "node:http";
import { Server } from "socket.io";
import type { Logger } from "pino";
import type { LivePointsEvent } from "@heron/core";
import type { Services } from "../services";
import { createIngestService } from "../services/ingest";
import { registerClientHandlers } from "./client-handlers";
import { registerRunnerHandlers } from "./runner-handlers";
import type { HeronIo } from "./types";

export type { HeronIo } from "./types";

export function attachSocketServer(httpServer: http.Server, services: Services, log: Logger, publicUrl: string): HeronIo {
  const io: HeronIo = new Server(httpServer, { path: "/socket.io", maxHttpBufferSize: 16 * 1024 * 1024, serveClient: false });
  // socket.io encodes a broadcast before looking for recipients: skip a room nobody watches
  // (measured ~10% of ingest CPU). Only with the in-memory adapter — with Redis, other
  // processes may have watchers, and the adapter is swapped, so the check falls through.
  const memoryAdapter = io.of("/").adapter;
  const fanout = (runId: string, event: LivePointsEvent) => {
    const room = `run:${runId}`;
    if (io.of("/").adapter === memoryAdapter && !memoryAdapter.rooms.has(room)) return;
    io.to(room).emit("points", event);
  };
  const ingest = createIngestService(services.prisma, services.metrics, fanout);

  services.notifier.bind({
    workAvailable: () => io.to("runners").emit("work:available"),
    cancelJob: (runnerId, jobId) => io.to(`runner:${runnerId}`).emit("job:cancel", { jobId }),
    runStatus: (runId, status) => io.to(`run:${runId}`).emit("run:status", { runId, status }),
    revokeJob: (jobId, fencingToken) => io.in(`attempt:${jobId}:${fencingToken}`).disconnectSockets(true),
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
    // a job attempt's sockets share a room, so ending its lease can cut them off on every server
    if (p.kind === "job") void socket.join(`attempt:${p.jobId}:${p.fencingToken}`);
    if (p.kind === "runner") registerRunnerHandlers(io, socket, p.runnerId, services, log);
    else registerClientHandlers(io, socket, p, services, ingest, log, publicUrl);
  });

  return io;
}
