import http from "node:http";
import type { AddressInfo } from "node:net";

import { Server, type Socket } from "socket.io";

/**
 * A bare socket.io server standing in for Heron's, for daemon tests: `handlers` answer the
 * events a test cares about; any other event with an ack gets `{ok: true}`.
 */
export async function startFakeServer(handlers: Record<string, (payload: unknown, socket: Socket) => unknown>) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { path: "/socket.io" });
  const received: { event: string; payload: unknown }[] = [];
  io.on("connection", (socket) => {
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = args.at(-1);
      received.push({ event, payload: args[0] });
      const answer = handlers[event] ? handlers[event](args[0], socket) : { ok: true };
      if (typeof ack === "function") (ack as (a: unknown) => void)(answer);
    });
  });
  await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
    received,
    close: async () => {
      await io.close();
      httpServer.close();
    },
  };
}
