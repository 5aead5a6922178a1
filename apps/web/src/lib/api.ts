"use client";
import type { DashboardToServer, ServerToDashboard } from "@heron/core";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { io, type Socket } from "socket.io-client";
import superjson from "superjson";

import type { AppRouter } from "../server/routers";

/** The key the dashboard sends: the server-provided local key, or one the user pasted (team mode). */
let apiKey: string | null = null;
const STORAGE_KEY = "heron.apiKey";

export function setApiKey(localKey: string | null) {
  localMode = !!localKey;
  apiKey = localKey ?? (typeof localStorage !== "undefined" ? localStorage.getItem(STORAGE_KEY) : null);
}
export function saveApiKey(key: string) {
  localStorage.setItem(STORAGE_KEY, key);
  apiKey = key;
}
/** Signing out also forgets a pasted key. */
export function forgetApiKey() {
  if (typeof localStorage !== "undefined") localStorage.removeItem(STORAGE_KEY);
  apiKey = null;
}
export function hasApiKey() {
  return !!apiKey;
}
/** The Authorization header for a raw fetch of a server route (CSV export): keys never go in URLs. */
export function authHeaders(): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

export const api = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: "/api/trpc",
      transformer: superjson,
      headers: () => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      // a restarted server (local mode) refuses the old key once: refresh it and retry
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (res.status !== 401 || !(await refreshLocalKey())) return res;
        return fetch(url, { ...init, headers: { ...(init?.headers ?? {}), authorization: `Bearer ${apiKey}` } });
      },
    }),
  ],
});

/** Local mode: a restarted server has a new local key; fetch it so the page keeps working without a reload. */
let localMode = false;
export async function refreshLocalKey(): Promise<boolean> {
  if (!localMode) return false;
  try {
    const res = await fetch("/api/local-key", { cache: "no-store" });
    const { key } = (await res.json()) as { key: string | null };
    if (!key || key === apiKey) return false;
    apiKey = key;
    return true;
  } catch {
    return false;
  }
}

export type HeronSocket = Socket<ServerToDashboard, DashboardToServer>;
let socket: HeronSocket | null = null;
/**
 * One socket per tab. socket.io reconnects by itself after a server restart; when the restarted
 * server refuses our key (a new local key), we fetch the new one and connect again.
 */
export function getSocket(): HeronSocket {
  if (socket) return socket;
  const s: HeronSocket = io({ path: "/socket.io", auth: (cb) => cb({ token: apiKey }), transports: ["websocket", "polling"] });
  s.on("connect_error", (err) => {
    if (!/unauthorized/.test(err.message)) return;
    void refreshLocalKey().then((changed) => changed && setTimeout(() => s.connect(), 100));
  });
  socket = s;
  return s;
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
