import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { hashSecret } from "@heron/core/node";
import { type Database, openDatabase } from "@heron/db";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { type Logger, pino } from "pino";

import { type Env, readEnv } from "../env";
import { createApiV1Handler } from "./http/api-v1/routes";
import { createArtifactRoutes } from "./http/artifacts";
import { handleAuthRoute } from "./http/auth-routes";
import { sendJson } from "./http/json-body";
import { mayReceiveLocalKey } from "./http/local-access";
import { streamMetricsCsv } from "./http/metrics-csv";
import { authenticateRequest, clientIp, isSameOrigin } from "./http/request-auth";
import { setSecurityHeaders } from "./http/security-headers";
import { appRouter } from "./routers";
import { createServices, type Services } from "./services";
import { createAuthLimiter, DEFAULT_AUTH_LIMITS } from "./services/auth-limiter";
import { migrateCheckpointChunks } from "./services/job-checkpoint-migration";
import { startTimers } from "./services/timers";
import { attachSocketServer, type HeronIo } from "./socket";
import { attachRedisAdapter } from "./socket/redis";

export type ServerOptions = Partial<Env> & {
  /** serve the Next.js dashboard (tests of the API alone skip it: faster, less memory) */
  dashboard?: boolean;
  /** Next dev mode (HMR) instead of the production build */
  dev?: boolean;
  /** PostgreSQL schema (tests use a fresh one per run) */
  pgSchema?: string;
  logger?: Logger;
  /** how long an unreferenced blob outlives its last use (tests: 0) */
  blobGraceMs?: number;
  /** failed-authentication limits (tests lower them) */
  authLimits?: Partial<typeof DEFAULT_AUTH_LIMITS>;
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
/** the health answer's version: this app's package.json */
const WEB_VERSION = (JSON.parse(fs.readFileSync(path.join(WEB_DIR, "package.json"), "utf8")) as { version: string }).version;

/**
 * Local mode serves this machine only: bind loopback unless told otherwise, and a server
 * told to listen on every interface stops handing out the local key (it would reach anyone
 * who can spoof or proxy their way to a loopback peer).
 */
function resolveBinding(env: Env, log: Logger): { host: string; localMode: boolean } {
  const localMode = env.HERON_LOCAL_MODE === "1";
  if (!env.HOST) return { host: localMode ? "127.0.0.1" : "0.0.0.0", localMode };
  const loopbackHost = env.HOST === "localhost" || env.HOST === "::1" || env.HOST.startsWith("127.");
  if (localMode && !loopbackHost) {
    log.warn({ host: env.HOST }, "HOST is not a loopback address: local mode is OFF (sign in or use an API key). Set HERON_LOCAL_MODE=0 to silence this.");
    return { host: env.HOST, localMode: false };
  }
  return { host: env.HOST, localMode };
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** ONE process: Next.js pages, tRPC (/api/trpc), socket.io (/socket.io), health, CSV export. */
// Long because it is the process's wiring in start order (database, services, Next, tRPC, routes,
// socket.io, Redis, listen, timers) and its mirror-image close(); split, the order would be hidden.
export async function startServer(options: ServerOptions = {}): Promise<HeronServer> {
  const env = { ...readEnv(), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Env;
  const log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { svc: "heron-server" } });
  const db = await openDatabase({ home: env.HERON_HOME, databaseUrl: env.DATABASE_URL, pgSchema: options.pgSchema });
  // The local key lives only in this process's memory: it reaches browsers on this machine
  // through the page (LOCAL_KEY_HEADER), never the network.
  const localKey = "hk_local_" + crypto.randomBytes(24).toString("base64url");
  const { host, localMode } = resolveBinding(env, log);
  // with PORT=0 the port is known only once listening: run links use the real one
  let boundPort = env.PORT;
  const runLinkBase = () => env.HERON_PUBLIC_URL ?? `http://localhost:${boundPort}`;
  const services = createServices(db, {
    leaseTtlMs: env.HERON_LEASE_TTL_S * 1000,
    localKeyHash: hashSecret(localKey),
    publicUrl: runLinkBase,
    log,
    blobsDir: env.HERON_BLOBS_DIR ? path.resolve(env.HERON_BLOBS_DIR) : path.join(env.HERON_HOME, "blobs"),
    blobGraceMs: options.blobGraceMs,
  });
  const limiter = await createAuthLimiter({
    ...DEFAULT_AUTH_LIMITS,
    failuresPerWindow: env.HERON_AUTH_FAILURES_PER_MIN,
    ...options.authLimits,
    redisUrl: env.REDIS_URL,
  });
  const publicUrl = env.HERON_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const publicHost = (() => {
    try {
      return new URL(publicUrl).host;
    } catch {
      return null;
    }
  })();
  const allowedHost = (h: string) => h === publicHost;
  if (env.HERON_BOOTSTRAP_API_KEY) await services.auth.ensureBootstrapKey(env.HERON_BOOTSTRAP_API_KEY);
  // checkpoints kept as database chunks by earlier versions move into the blob store (once; idempotent)
  await migrateCheckpointChunks(services.prisma, services.artifacts.blobs, log);

  let nextHandler: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
  let nextApp: { close?: () => Promise<void> } | null = null;
  if (options.dashboard !== false) {
    const { default: next } = (await import("next")) as unknown as {
      default: (o: object) => { prepare(): Promise<void>; getRequestHandler(): typeof nextHandler; close?: () => Promise<void> };
    };
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
      const auth = await authenticateRequest(req.headers, clientIp(req), services, limiter);
      if (auth.retryAfterS > 0)
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `too many failed authentications from this address; try again in ${auth.retryAfterS} s` });
      return { services, principal: auth.principal, ip: auth.ip, viaCookie: auth.viaCookie, sameOrigin: isSameOrigin(req.headers, allowedHost) };
    },
    onError: ({ error, path: p }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error.cause ?? error, path: p }, "tRPC procedure failed");
    },
  });

  const secureCookies = publicUrl.startsWith("https:");
  const apiV1 = createApiV1Handler({ services, limiter, log, publicUrl: runLinkBase });
  const artifactRoutes = createArtifactRoutes({ services, limiter, log });
  async function route(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? "/";
    delete req.headers[LOCAL_KEY_HEADER];
    setSecurityHeaders(res, !!options.dev);
    if (url === "/api/health" || url.startsWith("/api/health?")) {
      return sendJson(res, 200, { ok: true, provider: db.provider, version: WEB_VERSION, localMode });
    }
    if (url.startsWith("/api/trpc/")) return void trpc(req, res);
    // a page that outlived a server restart fetches the new local key here (same rule as the page itself)
    if (url === "/api/local-key") return sendJson(res, 200, { key: localMode && mayReceiveLocalKey(req, env.HERON_PUBLIC_URL) ? localKey : null });
    if (url.startsWith("/api/v1/")) return apiV1(req, res);
    if (url === "/api/artifacts" || url.startsWith("/api/artifacts/") || url.startsWith("/api/artifacts?")) return artifactRoutes(req, res);
    if (url.startsWith("/api/auth/")) return handleAuthRoute(req, res, url.split("?")[0]!, { services, limiter, secureCookies, allowedHost });
    const csv = url.match(/^\/api\/runs\/([^/?]+)\/metrics\.csv(?:\?.*)?$/);
    if (csv) {
      const runId = safeDecode(csv[1]!);
      if (runId === null) return sendJson(res, 400, { error: "malformed percent-encoding in the run id" });
      const auth = await authenticateRequest(req.headers, clientIp(req), services, limiter);
      if (auth.retryAfterS > 0)
        return sendJson(
          res,
          429,
          { error: `too many failed authentications; try again in ${auth.retryAfterS} s` },
          { "retry-after": String(auth.retryAfterS) },
        );
      return streamMetricsCsv(res, runId, auth.principal, services, log);
    }
    // socket.io's own listener takes "/socket.io/…" before this one runs; what reaches here
    // ("/socket.io", "/socket.iox") is nobody's, and returning without an answer hung the client
    if (url.startsWith("/socket.io")) return sendJson(res, 404, { error: "not found" });
    if (!nextHandler) return sendJson(res, 404, { error: "dashboard disabled" });
    if (localMode && mayReceiveLocalKey(req, env.HERON_PUBLIC_URL)) req.headers[LOCAL_KEY_HEADER] = localKey;
    await nextHandler(req, res);
  }

  const server = http.createServer((req, res) => {
    // whatever a route throws becomes an answer at once: a hung socket is a slow leak
    route(req, res).catch((err) => {
      log.error({ err, url: req.url?.slice(0, 200) }, "request failed");
      if (!res.headersSent) sendJson(res, err instanceof URIError ? 400 : 500, { error: err instanceof URIError ? "malformed URL" : "internal server error" });
      else res.end();
    });
  });

  // Keep idle HTTP connections well past clients' own keep-alive (undici: the server's hint
  // minus 1 s): with Node's 5 s default a client could reuse a socket the server was closing
  // at that instant and get ECONNRESET on a perfectly good request (seen under load in CI).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const io = attachSocketServer(server, services, log, { limiter, allowedHost });
  const closeRedis = env.REDIS_URL ? await attachRedisAdapter(io, env.REDIS_URL) : async () => undefined;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.PORT, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  boundPort = port;
  const stopTimers = startTimers(services, log);
  log.info({ port, host, localMode, provider: db.provider, home: env.HERON_HOME }, "heron server listening");

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    services,
    io,
    db,
    localKey,
    async close() {
      await stopTimers();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // keep-alive HTTP clients would hold close() open; sockets are told to go first
      void io.close();
      server.closeAllConnections();
      await closed;
      await closeRedis();
      await limiter.close();
      await nextApp?.close?.().catch(() => undefined);
      await db.close();
    },
  };
}
