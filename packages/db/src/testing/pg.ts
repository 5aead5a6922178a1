import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { describe, it } from "vitest";

import { type Database, openDatabase } from "../client";
import { pgTestUrl, probePg } from "./pg-probe";

export { pgTestUrl } from "./pg-probe";

/**
 * PostgreSQL in tests: a real server (HERON_TEST_PG_URL, default the local one), a fresh
 * schema per test file. Suites report themselves skipped when the server is unreachable —
 * except on CI (CI=true), where a missing service must fail loudly instead of passing green.
 */
/** null when reachable, else why not (probed once per test file) */
export const pgUnreachable: string | null = await probePg(pgTestUrl());

/** describe() for suites that need PostgreSQL: skipped when unreachable, failing on CI. */
export function describePg(name: string, fn: () => void): void {
  if (pgUnreachable === null) return void describe(name, fn);
  if (process.env.CI === "true") {
    return void describe(name, () => {
      it("needs PostgreSQL", () => {
        throw new Error(`PostgreSQL at ${pgTestUrl()} is unreachable on CI: ${pgUnreachable}`);
      });
    });
  }
  describe.skip(`${name} (PostgreSQL unreachable: ${pgUnreachable})`, fn);
}

/** Opens a migrated database in a fresh schema; `drop()` removes the schema and closes. */
export async function openTestPg(): Promise<{ db: Database; schema: string; drop(): Promise<void> }> {
  const schema = "t_" + crypto.randomBytes(6).toString("hex");
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-pg-"));
  const db = await openDatabase({ home, databaseUrl: pgTestUrl(), pgSchema: schema });
  return {
    db,
    schema,
    async drop() {
      if (db.provider === "postgres") await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
