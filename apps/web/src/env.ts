import path from "node:path";

import { z } from "zod";

/**
 * The server's configuration, read from process.env here. One exception outside this schema:
 * create-server.ts reads LOG_LEVEL for its default logger (pino level, default "info").
 */
const EnvSchema = z.object({
  /** HTTP port for dashboard, tRPC, socket.io and health (one port for everything) */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** interface to bind; default 127.0.0.1 in local mode (this machine only), 0.0.0.0 otherwise. 0.0.0.0 with local mode on turns local mode off. */
  HOST: z.string().optional(),
  /** holds heron.db (SQLite), logs and artifacts */
  HERON_HOME: z.string().default("./.heron"),
  /**
   * the blob store (artifact files, checkpoints); default HERON_HOME/blobs. Several server
   * processes of one deployment point this at one shared volume (docs/artifacts.md).
   */
  HERON_BLOBS_DIR: z.string().optional(),
  /** postgres://… switches from embedded SQLite to PostgreSQL */
  DATABASE_URL: z.string().optional(),
  /** enables the socket.io Redis adapter so several server processes fan out as one */
  REDIS_URL: z.string().optional(),
  /** on first start, creates this API key as an admin key (scripts, tests) */
  HERON_BOOTSTRAP_API_KEY: z.string().min(16, "HERON_BOOTSTRAP_API_KEY must be at least 16 characters").optional(),
  /** "1": a browser on this machine (loopback) gets the dashboard without typing a key. Set 0 for team deployments. */
  HERON_LOCAL_MODE: z.enum(["0", "1"]).default("1"),
  /** public URL used in run links */
  HERON_PUBLIC_URL: z.string().optional(),
  /** failed authentications (keys, passwords) one client address may make per minute before it gets 429 for a minute */
  HERON_AUTH_FAILURES_PER_MIN: z.coerce.number().int().min(1).default(30),
  /** lease TTL for job claims, seconds */
  HERON_LEASE_TTL_S: z.coerce.number().positive().default(30),
  NODE_ENV: z.string().default("development"),
});
export type Env = z.infer<typeof EnvSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${detail}`);
  }
  return { ...parsed.data, HERON_HOME: path.resolve(parsed.data.HERON_HOME) };
}
