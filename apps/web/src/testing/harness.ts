import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";
import { io, type Socket } from "socket.io-client";
import { pino } from "pino";
import type { ClientToServerEvents, ServerToClientEvents } from "@heron/core";
import type { AppRouter } from "../server/routers";
import { startServer, type HeronServer, type ServerOptions } from "../server/create-server";

export type Provider = "sqlite" | "postgres";
export const TEST_PG_URL = process.env.HERON_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether the local PostgreSQL answers. With CI=true a missing service is a failure, not a skip. */
export async function postgresAvailable(): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const u = new URL(TEST_PG_URL);
    const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
  if (!ok && process.env.CI === "true") throw new Error(`PostgreSQL is required in CI but ${TEST_PG_URL} is unreachable`);
  return ok;
}

export type TestServer = {
  server: HeronServer;
  key: string;
  home: string;
  api: ReturnType<typeof createApi>;
  connect(token?: string): Promise<Socket<ServerToClientEvents, ClientToServerEvents>>;
  close(): Promise<void>;
};

export function createApi(url: string, key: string | null) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/api/trpc`, transformer: superjson, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })],
  });
}

/** Boots the real server on a random port with a temp HERON_HOME (and a fresh PG schema). */
export async function startTestServer(provider: Provider, extra: ServerOptions = {}): Promise<TestServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-test-"));
  const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
  const pgSchema = provider === "postgres" ? `t_${crypto.randomBytes(6).toString("hex")}` : undefined;
  const server = await startServer({
    PORT: 0,
    HOST: "127.0.0.1",
    HERON_HOME: home,
    HERON_BOOTSTRAP_API_KEY: key,
    DATABASE_URL: provider === "postgres" ? TEST_PG_URL : undefined,
    pgSchema,
    dashboard: false,
    logger: pino({ level: process.env.LOG_LEVEL ?? "warn" }),
    ...extra,
  });
  const sockets: Socket[] = [];
  return {
    server,
    key,
    home,
    api: createApi(server.url, key),
    async connect(token = key) {
      const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(server.url, { path: "/socket.io", auth: { token }, transports: ["websocket"], reconnection: false });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      return s;
    },
    async close() {
      for (const s of sockets) s.close();
      await server.close();
      if (pgSchema) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await client.end();
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
