import type http from "node:http";

import type { LivePointsEvent } from "@heron/core";
import type { Logger } from "pino";
import { Server } from "socket.io";

import { authenticateRequest, isSameOrigin } from "../http/request-auth";
import type { Services } from "../services";
import type { AuthLimiter } from "../services/auth-limiter";
import { authorizeEvents } from "./authorize-events";
import { registerClientHandlers } from "./client-handlers";
import { registerRunnerHandlers } from "./runner-handlers";
import type { HeronIo, HeronSocket } from "./types";

export type { HeronIo } from "./types";
export type SocketServerOptions = { limiter: AuthLimiter; allowedHost: (host: string) => boolean };

/** setTimeout's limit: a key expiring later than ~24 days is checked again on reconnect */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function attachSocketServer(httpServer: http.Server, services: Services, log: Logger, o: SocketServerOptions): HeronIo {
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

  services.notifier.bind({
    workAvailable: () => io.to("runners").emit("work:available"),
    cancelJob: (runnerId, jobId) => io.to(`runner:${runnerId}`).emit("job:cancel", { jobId }),
    runStatus: (runId, status) => io.to(`run:${runId}`).emit("run:status", { runId, status }),
    livePoints: fanout,
    revokeJob: (jobId, fencingToken) => io.in(`attempt:${jobId}:${fencingToken}`).disconnectSockets(true),
    revokeCredential: (room) => io.in(room).disconnectSockets(true),
  });

  // the same authentication as HTTP requests: handshake auth token, then Authorization, then the session cookie
  io.use((socket, next) => void authenticateSocket(socket, next));
  async function authenticateSocket(socket: HeronSocket, next: (err?: Error) => void) {
    try {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const token = typeof auth?.token === "string" ? auth.token : undefined;
      const result = await authenticateRequest(socket.request.headers, socket.handshake.address || null, services, o.limiter, token);
      if (result.retryAfterS > 0) return next(new Error(`too many failed authentications; try again in ${result.retryAfterS} s`));
      if (!result.principal) return next(new Error("unauthorized: missing or invalid key"));
      // a cookie rides along on any page's WebSocket to us: only our own pages may use it
      if (result.viaCookie && !isSameOrigin(socket.request.headers, o.allowedHost)) return next(new Error("cross-site connection refused"));
      socket.data.principal = result.principal;
      next();
    } catch (err) {
      log.error({ err }, "socket auth failed");
      next(new Error("internal server error"));
    }
  }

  io.on("connection", (socket) => {
    const p = socket.data.principal;
    authorizeEvents(socket, services, log);
    // rooms per credential, so revoking it (or signing out) cuts its open sockets on every server
    if (p.kind === "job") void socket.join(`attempt:${p.jobId}:${p.fencingToken}`);
    if (p.kind === "user") {
      if (p.keyId) void socket.join(`key:${p.keyId}`);
      if (p.sessionId) void socket.join(`session:${p.sessionId}`);
      if (p.expiresAt) {
        const timer = setTimeout(() => socket.disconnect(true), Math.min(MAX_TIMER_MS, Math.max(0, p.expiresAt.getTime() - Date.now())));
        socket.once("disconnect", () => clearTimeout(timer));
      }
    }
    if (p.kind === "runner") registerRunnerHandlers(io, socket, p, services, log);
    else registerClientHandlers(socket, p, services, log);
  });

  return io;
}
