// Two connections share one SQLite file inside ONE thread: Prisma's adapter connection and
// the raw better-sqlite3 connection the metrics store and job claims use. better-sqlite3 is
// synchronous, so a busy-wait on one connection blocks the event loop that would let the
// other connection finish its transaction: a guaranteed stall of the whole busy timeout
// (10 s), then SQLITE_BUSY — a failed heartbeat, a lost lease. So neither connection ever
// busy-waits: each tries once and, if the file is locked, yields to the event loop and
// tries again. Nothing else writes the file (runners and SDKs talk to the server).
import type BetterSqlite3 from "better-sqlite3";

/** how long a write keeps retrying before the error goes to the caller */
export const SQLITE_RETRY_MS = 30_000;

export function isSqliteBusy(err: unknown): boolean {
  const e = err as { code?: string; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } } | null;
  const code = e?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || (e?.meta?.driverAdapterError?.cause?.originalCode ?? "").startsWith("SQLITE_BUSY");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** runs `fn` until it does not fail with SQLITE_BUSY, yielding (1…20 ms) between tries */
export async function retryWhileBusy<T>(fn: () => T | Promise<T>, budgetMs = SQLITE_RETRY_MS): Promise<T> {
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isSqliteBusy(err) || Date.now() - start > budgetMs) throw err;
    }
    await sleep(Math.min(1 + attempt, 20));
  }
}

/** runs a synchronous statement on `sql` with busy_timeout 0, retried as above */
export function withoutBusyWait<T>(sql: BetterSqlite3.Database, fn: () => T): Promise<T> {
  return retryWhileBusy(() => {
    const previous = sql.pragma("busy_timeout", { simple: true }) as number;
    sql.pragma("busy_timeout = 0");
    try {
      return fn();
    } finally {
      sql.pragma(`busy_timeout = ${previous}`);
    }
  });
}
