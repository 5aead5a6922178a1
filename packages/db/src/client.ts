import fs from "node:fs";
import path from "node:path";

import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";

import { type Prisma as PgPrisma, PrismaClient as PgPrismaClient } from "./generated/postgres/client";
import { type Prisma as SqlitePrisma, PrismaClient as SqlitePrismaClient } from "./generated/sqlite/client";
import { runMigrations } from "./migrate";
import { retryWhileBusy } from "./sqlite-busy";

export type DatabaseOptions = {
  /** postgres://… switches to PostgreSQL; anything else (or nothing) means embedded SQLite */
  databaseUrl?: string;
  /** holds heron.db for SQLite */
  home: string;
  /** PostgreSQL schema to use (tests give each run its own); default "public" */
  pgSchema?: string;
  /** apply pending migrations on open (default true) */
  migrate?: boolean;
};

/**
 * The Prisma client services use, whichever the provider. Both generated clients come from
 * one schema (prisma/postgres/schema is derived from prisma/schema), so they have the same
 * models with the same row types — `sameModels` below fails to compile otherwise — but
 * TypeScript cannot relate the generic method signatures of two generated namespaces. The
 * SQLite client's type names that shared surface; the PostgreSQL client is converted to it
 * once, in openPostgres.
 */
export type PrismaClient = SqlitePrismaClient;

type ModelRows<M extends { model: Record<string, { payload: { scalars: unknown } }> }> = { [K in keyof M["model"]]: M["model"][K]["payload"]["scalars"] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// compile-time only: the two clients' models and their rows are identical
const sameModels: Same<ModelRows<PgPrisma.TypeMap>, ModelRows<SqlitePrisma.TypeMap>> = true;
void sameModels;

/** One open database: Prisma for metadata, and the raw driver handle for the metrics hot path. */
export type Database =
  | { provider: "sqlite"; prisma: PrismaClient; sqlite: BetterSqlite3.Database; close(): Promise<void> }
  | { provider: "postgres"; prisma: PrismaClient; pool: pg.Pool; schema: string; close(): Promise<void> };

/**
 * Lets close() wait for the Prisma operations in flight before disconnecting. Why: Prisma
 * 6.19's client engine runs even single statements (every `updateMany`) as internal
 * transactions. `$disconnect()` marks the transactions still waiting for a pool connection
 * "closing" and forgets them; when the connection arrives, BEGIN runs, the caller gets
 * "Transaction API error: Unknown transaction status." (or never settles), and nothing ever
 * commits: the connection stays "idle in transaction" holding its locks, and pool.end() waits
 * for it forever. Requests still being handled while a server shuts down hit exactly that
 * (reproduced in client.test.ts).
 */
function drainable(client: PrismaClient) {
  let inFlight = 0;
  let started = 0;
  let closed = false;
  const prisma = client.$extends({
    query: {
      async $allOperations({ args, query }) {
        if (closed) throw new Error("database is closed");
        inFlight++;
        started++;
        try {
          return (await query(args)) as unknown;
        } finally {
          inFlight--;
        }
      },
    },
  }) as unknown as PrismaClient;
  return {
    prisma,
    /**
     * Waits (at most `ms`) until no operation is in flight and none started for a moment —
     * a service call is several queries in a row, and stopping it halfway would leave, say, a
     * requeued job without its "lost" attempt — then refuses new ones.
     */
    drain: async (ms: number) => {
      const end = Date.now() + ms;
      let seen = -1;
      while ((inFlight > 0 || seen !== started) && Date.now() < end) {
        seen = started;
        await new Promise((r) => setTimeout(r, 25));
      }
      closed = true;
    },
  };
}

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//.test(url);
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const db = isPostgresUrl(opts.databaseUrl) ? await openPostgres(opts.databaseUrl, opts.pgSchema ?? "public") : openSqlite(opts.home);
  if (opts.migrate !== false) await runMigrations(db);
  return db;
}

function openSqlite(home: string): Database {
  fs.mkdirSync(home, { recursive: true });
  const file = path.join(home, "heron.db");
  const sqlite = new BetterSqlite3(file);
  // WAL lets dashboards read while ingestion writes; NORMAL sync is durable against process
  // crashes (the WAL is on disk) and much faster than FULL.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  // timeout 0: Prisma's connection never busy-waits — that would block the very thread that
  // holds the lock on the other connection; a locked file is retried asynchronously instead
  const adapter = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 0 });
  const retrying = new SqlitePrismaClient({ adapter }).$extends({
    query: { $allOperations: ({ args, query }) => retryWhileBusy(() => query(args)) },
  }) as unknown as PrismaClient;
  const { prisma, drain } = drainable(retrying);
  return {
    provider: "sqlite",
    prisma,
    sqlite,
    async close() {
      await drain(3000);
      await prisma.$disconnect();
      sqlite.close();
    },
  };
}

async function openPostgres(url: string, schema: string): Promise<Database> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  // a name unique to this open, so close() can find connections that did not let go
  const applicationName = `heron-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}`, application_name: applicationName });
  pool.on("error", () => {
    /* idle client errors (server restart) surface on the next query instead of crashing */
  });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const adapter = new PrismaPg(pool, { schema });
  // the one conversion to the shared client type (see PrismaClient above)
  const { prisma, drain } = drainable(new PgPrismaClient({ adapter }) as unknown as PrismaClient);
  return {
    provider: "postgres",
    prisma,
    pool,
    schema,
    async close() {
      // queries in flight finish first (see drainable). Should one hang anyway, a connection
      // left "idle in transaction" would make pool.end() wait forever and its locks block DDL:
      // bound the graceful path, then end whatever of ours is left.
      await drain(3000);
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
      await bounded(prisma.$disconnect());
      await bounded(pool.end());
      const admin = new pg.Client({ connectionString: url });
      try {
        await admin.connect();
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, [applicationName]);
      } catch {
        /* server gone: nothing of ours is left either */
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
  };
}
