import pg from "pg";

/**
 * The PostgreSQL test server, probed and cleaned up without vitest: test suites
 * (`./pg.ts`, the web app's harness) and benchmarks share it.
 */
export function pgTestUrl(): string {
  return process.env.HERON_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
}

/** null when `url` accepts a connection and answers a query, else why not */
export async function probePg(url = pgTestUrl()): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** drops a per-test schema (and everything in it) */
export async function dropPgSchema(schema: string, url = pgTestUrl()): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
