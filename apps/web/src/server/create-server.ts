import crypto from "node:crypto";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { pino, type Logger } from "pino";
import { openDatabase, type Database } from "@heron/db";
import { hashSecret } from "@heron/core/node";
import { readEnv, type Env } from "../env";
import { appRouter } from "./routers";
import { createServices, type Services } from "./services";
import { startStaleSweep } from "./services/runs";
import { attachSocketServer, type HeronIo } from "./socket";
import { attachRedisAdapter } from "./socket/redis";
import { streamMetricsCsv } from "./http/metrics-csv";

export type ServerOptions = Partial<Env> & {
  /** serve the Next.js dashboard (tests of the API alone skip it: faster, less memory) */
  dashboard?: boolean;
  /** Next dev mode (HMR) instead of the production build */
  dev?: boolean;
  /** PostgreSQL schema (tests use a fresh one per run) */
  pgSchema?: string;
  logger?: Logger;
};

export type HeronServer = {
  url: string;
  port: number;
  services: Services;
  io: HeronIo;
  db: Database;
  /** a key that authenticates like the local dashboard (for the launcher's own runner token etc.) */
  localKey: string;
  close(): Promise<void>;
};

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** the header the server sets (never trusts from clients) to hand the local key to the dashboard page */
export const LOCAL_KEY_HEADER = "x-heron-local-key";

function isLoopback(addr: string | undefined) {
  return !!addr && (addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127."));
}

/** ONE process: Next.js pages, tRPC (/api/trpc), socket.io (/socket.io), health, CSV export. */
export async function startServer(options: ServerOptions = {}): Promise<HeronServer> {
  const env = { ...readEnv(), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Env;
  const log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { svc: "heron-server" } });
  const db = await openDatabase({ home: env.HERON_HOME, databaseUrl: env.DATABASE_URL, pgSchema: options.pgSchema });
  // The local key lives only in this process's memory: it reaches browsers on this machine
  // through the page (LOCAL_KEY_HEADER), never the network.
  const localKey = "hk_local_" + crypto.randomBytes(24).toString("base64url");
  const services = createServices(db, { leaseTtlMs: env.HERON_LEASE_TTL_S * 1000, localKeyHash: hashSecret(localKey) });
  if (env.HERON_BOOTSTRAP_API_KEY) await services.auth.ensureBootstrapKey(env.HERON_BOOTSTRAP_API_KEY);

  let nextHandler: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
  let nextApp: { close?: () => Promise<void> } | null = null;
  if (options.dashboard !== false) {
    const { default: next } = (await import("next")) as unknown as { default: (o: object) => { prepare(): Promise<void>; getRequestHandler(): typeof nextHandler; close?: () => Promise<void> } };
    const app = next({ dev: !!options.dev, dir: WEB_DIR, quiet: true });
    await app.prepare();
    nextHandler = app.getRequestHandler();
    nextApp = app;
  }

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    maxBodySize: 8 * 1024 * 1024,
    createContext: async ({ req }) => {
      const header = req.headers.authorization;
      const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
      return { services, principal: await services.auth.authenticate(token) };
    },
    onError: ({ error, path: p }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error.cause ?? error, path: p }, "tRPC procedure failed");
    },
  });

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    delete req.headers[LOCAL_KEY_HEADER];
    if (url === "/api/health" || url.startsWith("/api/health?")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, provider: db.provider, version: "0.1.0", localMode: env.HERON_LOCAL_MODE === "1" }));
      return;
    }
    if (url.startsWith("/api/trpc/")) return void trpc(req, res);
    const csv = url.match(/^\/api\/runs\/([^/?]+)\/metrics\.csv(?:\?.*)?$/);
    if (csv) return void streamMetricsCsv(req, res, decodeURIComponent(csv[1]!), services, log);
    if (url.startsWith("/socket.io")) return; // handled by socket.io's own listener
    if (!nextHandler) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("dashboard disabled");
      return;
    }
    if (env.HERON_LOCAL_MODE === "1" && isLoopback(req.socket.remoteAddress)) req.headers[LOCAL_KEY_HEADER] = localKey;
    nextHandler(req, res).catch((err) => {
      log.error({ err }, "page failed");
      if (!res.headersSent) res.end();
    });
  });

  // Keep idle HTTP connections well past clients' own keep-alive (undici: the server's hint
  // minus 1 s): with Node's 5 s default a client could reuse a socket the server was closing
  // at that instant and get ECONNRESET on a perfectly good request (seen under load in CI).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const publicUrl = env.HERON_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const io = attachSocketServer(server, services, log, publicUrl);
  const closeRedis = env.REDIS_URL ? await attachRedisAdapter(io, env.REDIS_URL) : async () => undefined;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.PORT, env.HOST, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const sweep = setInterval(() => {
    services.jobs.expireLeases().catch((err) => log.error({ err }, "lease sweep failed"));
  }, 1000);
  const stopStaleSweep = startStaleSweep(services, log);
  log.info({ port, provider: db.provider, home: env.HERON_HOME }, "heron server listening");

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    services,
    io,
    db,
    localKey,
    async close() {
      clearInterval(sweep);
      stopStaleSweep();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // keep-alive HTTP clients would hold close() open; sockets are told to go first
      io.close();
      server.closeAllConnections();
      await closed;
      await closeRedis();
      await nextApp?.close?.().catch(() => undefined);
      await db.close();
    },
  };
}
