import { type ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { AnyPeerToServer, ServerToAnyPeer } from "@heron/core";
import { dropPgSchema, pgTestUrl, probePg } from "@heron/db/testing/pg-probe";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { pino } from "pino";
import { io, type Socket } from "socket.io-client";
import superjson from "superjson";

import { type HeronServer, type ServerOptions, startServer } from "../server/create-server";
import type { AppRouter } from "../server/routers";

export type Provider = "sqlite" | "postgres";
export const TEST_PG_URL = pgTestUrl();

/** Whether the local PostgreSQL answers. With CI=true a missing service is a failure, not a skip. */
export async function postgresAvailable(): Promise<boolean> {
  const why = await probePg(TEST_PG_URL);
  if (why !== null && process.env.CI === "true") throw new Error(`PostgreSQL is required in CI but ${TEST_PG_URL} is unreachable: ${why}`);
  return why === null;
}

export type TestServer = {
  server: HeronServer;
  key: string;
  home: string;
  api: ReturnType<typeof createApi>;
  connect(token?: string): Promise<TestSocket>;
  close(): Promise<void>;
};

/** a test's socket: it may speak as any peer (SDK, runner, dashboard) */
export type TestSocket = Socket<ServerToAnyPeer, AnyPeerToServer>;

/**
 * Sends a payload the event maps would refuse to compile and resolves with the raw answer:
 * for tests of the server's own validation, which must not trust the client's typings.
 */
export function emitMalformed(socket: TestSocket, event: keyof AnyPeerToServer, payload: unknown): Promise<unknown> {
  const untyped = socket as unknown as Socket;
  return untyped.emitWithAck(event, payload);
}

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
      const s: TestSocket = io(server.url, {
        path: "/socket.io",
        auth: { token },
        transports: ["websocket"],
        reconnection: false,
      });
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
        await dropPgSchema(pgSchema, TEST_PG_URL);
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

export const TEST_REDIS_URL = process.env.HERON_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether the local Redis answers. With CI=true a missing service is a failure, not a skip. */
export async function redisAvailable(): Promise<boolean> {
  const u = new URL(TEST_REDIS_URL);
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
  if (!ok && process.env.CI === "true") throw new Error(`Redis is required in CI but ${TEST_REDIS_URL} is unreachable`);
  return ok;
}

const SERVER_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), "server-process.ts");
/** server processes this test process started and has not seen exit: killed when it exits */
const liveServers = new Set<ChildProcess>();
let exitHook = false;

/** The real server as its own OS process (server-process.ts): what a second host would run. */
export type ServerProcess = {
  url: string;
  key: string;
  api: ReturnType<typeof createApi>;
  child: ChildProcess;
  /** everything it printed (for failure messages) */
  output(): string;
  connect(token?: string): Promise<TestSocket>;
  /** SIGTERM (graceful close), SIGKILL after 5 s; removes its HERON_HOME */
  close(): Promise<void>;
};

/**
 * Starts server-process.ts with its own HERON_HOME and a free port; resolves on its READY line.
 * `env`: DATABASE_URL, HERON_TEST_PG_SCHEMA, REDIS_URL, HERON_LEASE_TTL_S, … `key` becomes
 * its bootstrap API key (give every process of one database the same one).
 */
export async function startServerProcess(key: string, env: Record<string, string>): Promise<ServerProcess> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-srv-"));
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
      ...env,
      PORT: "0",
      HERON_HOME: home,
      HERON_BOOTSTRAP_API_KEY: key,
      HERON_EXIT_WITH_PARENT: "1",
    },
    // stdin is a pipe the child watches: it exits when this process dies, even by SIGKILL
    stdio: ["pipe", "pipe", "pipe"],
  });
  liveServers.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const c of liveServers) c.kill("SIGKILL");
    });
  }
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => (liveServers.delete(child), resolve())));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process not ready after 60 s:\n${out.slice(-3000)}`)), 60_000);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        out += d;
        const m = out.match(/READY (\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    }
    void exited.then(() => (clearTimeout(timer), reject(new Error(`server process exited before READY:\n${out.slice(-3000)}`))));
  });
  const close = async () => {
    for (const s of sockets) s.close();
    if (liveServers.has(child)) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(home, { recursive: true, force: true });
  };
  const sockets: Socket[] = [];
  let url: string;
  try {
    url = await ready;
  } catch (err) {
    child.kill("SIGKILL");
    await close();
    throw err;
  }
  return {
    url,
    key,
    api: createApi(url, key),
    child,
    output: () => out,
    async connect(token = key) {
      const s: TestSocket = io(url, {
        path: "/socket.io",
        auth: { token },
        transports: ["websocket"],
        reconnection: false,
      });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      return s;
    },
    close,
  };
}

/**
 * `count` server processes on one fresh, migrated PostgreSQL schema, joined by Redis — several
 * web/server processes deployed as one. close() stops them all and drops the schema; if one
 * fails to start, those already started are stopped before the error propagates.
 */
export async function startServerProcesses(count: number, env: Record<string, string> = {}): Promise<{ servers: ServerProcess[]; close(): Promise<void> }> {
  // imported here: it needs vitest, and benchmarks import this file too
  const { openTestPg, pgTestUrl } = await import("@heron/db/testing/pg");
  const pgDb = await openTestPg(); // migrated once here, so the servers don't race to migrate
  const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
  // one blob store for all, as a deployment shares one volume (each keeps its own HERON_HOME)
  const blobs = fs.mkdtempSync(path.join(os.tmpdir(), "heron-blobs-"));
  const servers: ServerProcess[] = [];
  const close = async () => {
    await Promise.allSettled(servers.map((s) => s.close()));
    await pgDb.drop();
    fs.rmSync(blobs, { recursive: true, force: true });
  };
  try {
    // one after another: the first creates the bootstrap key, the others find it
    for (let i = 0; i < count; i++) {
      servers.push(
        await startServerProcess(key, {
          DATABASE_URL: pgTestUrl(),
          HERON_TEST_PG_SCHEMA: pgDb.schema,
          REDIS_URL: TEST_REDIS_URL,
          HERON_BLOBS_DIR: blobs,
          ...env,
        }),
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { servers, close };
}
