// Closing a database while Prisma writes are in flight. On PostgreSQL, Prisma 6.19 runs every
// `updateMany` as an internal transaction; a bare `$disconnect()` abandons those still waiting
// for a pool connection: they fail with "Transaction API error: Unknown transaction status." or
// never settle, and leave connections "idle in transaction" (measured without the fix: of 50
// such writes, 10 failed that way and 40 hung). close() lets them finish first.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import pg from "pg";
import { expect, it } from "vitest";

import { openDatabase } from "./client";
import { describePg, pgTestUrl } from "./testing/pg";

const settle = (p: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => "ok",
      (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n").filter(Boolean).at(-1) ?? "",
    ),
    new Promise<string>((r) => setTimeout(() => r("never settled"), 10_000).unref()),
  ]);

describePg("close() with writes in flight (PostgreSQL)", () => {
  it("lets them finish, then refuses new ones with a clear error, and leaves no transaction open", async () => {
    const schema = "t_" + crypto.randomBytes(6).toString("hex");
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-pg-"));
    const db = await openDatabase({ home, databaseUrl: pgTestUrl(), pgSchema: schema });
    const admin = new pg.Client({ connectionString: pgTestUrl() });
    await admin.connect();
    try {
      const project = await db.prisma.project.create({ data: { name: "p" } });
      const job = await db.prisma.job.create({ data: { projectId: project.id, spec: {}, kind: "train" } });
      // more than the pool's 10 connections, so most wait for one when close() begins
      const writes = Array.from({ length: 50 }, (_, i) => settle(db.prisma.job.updateMany({ where: { id: job.id }, data: { priority: i } })));
      await new Promise((r) => setTimeout(r, 5));
      const closed = db.close();
      // a request being handled may still issue its next query while closing: it runs
      const next = settle(db.prisma.job.updateMany({ where: { id: job.id }, data: { priority: -1 } }));
      const results = await Promise.all(writes);
      expect(results.filter((r) => r !== "ok")).toEqual([]);
      expect(await next).toBe("ok");
      await closed;
      expect(await settle(db.prisma.job.findMany())).toMatch(/database is closed/);
      const open = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND query LIKE '%"${schema}"%'`);
      expect(open.rows[0].n).toBe(0);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
