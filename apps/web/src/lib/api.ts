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

/**
 * Calls a query procedure that may not exist on this server yet (e.g. run.compareTable, added
 * by another feature): rejects when it is missing, so the page simply leaves that panel out.
 */
export async function callOptional(path: string, input: unknown): Promise<unknown> {
  const q = encodeURIComponent(JSON.stringify(superjson.serialize(input)));
  const res = await fetch(`/api/trpc/${path}?input=${q}`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const body = (await res.json()) as { result?: { data?: { json: unknown; meta?: unknown } } };
  return body.result?.data ? superjson.deserialize(body.result.data as Parameters<typeof superjson.deserialize>[0]) : null;
}
