"use client";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "@heron/core";
import type { AppRouter } from "../server/routers";

/** The key the dashboard sends: the server-provided local key, or one the user pasted (team mode). */
let apiKey: string | null = null;
const STORAGE_KEY = "heron.apiKey";

export function setApiKey(localKey: string | null) {
  apiKey = localKey ?? (typeof localStorage !== "undefined" ? localStorage.getItem(STORAGE_KEY) : null);
}
export function saveApiKey(key: string) {
  localStorage.setItem(STORAGE_KEY, key);
  apiKey = key;
}
export function hasApiKey() {
  return !!apiKey;
}

export const api = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: "/api/trpc",
      transformer: superjson,
      headers: () => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    }),
  ],
});

export type HeronSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
let socket: HeronSocket | null = null;
/** One socket per tab; socket.io reconnects by itself (the page survives a server restart). */
export function getSocket(): HeronSocket {
  socket ??= io({ path: "/socket.io", auth: (cb) => cb({ token: apiKey }), transports: ["websocket", "polling"] });
  return socket;
}

export function errorMessage(err: unknown): string {
  if (err instanceof TRPCClientError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
