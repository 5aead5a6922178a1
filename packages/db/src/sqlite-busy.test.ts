// Prisma's connection and the raw metrics connection share one SQLite file in one thread. If
// either busy-waited while the other held the write lock across an await, the thread would
// block for the whole busy timeout and the write would fail with SQLITE_BUSY (seen as failed
// run heartbeats under ingest load). Both directions must simply succeed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { type Database, openDatabase } from "./client";
import { createSqliteIo } from "./metrics/sqlite-ops";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SQLite: Prisma and the metrics connection never stall each other", () => {
  let db: Database | undefined;
  let home = "";
  afterEach(async () => {
    await db?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  const open = async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-busy-"));
    db = await openDatabase({ home });
    if (db.provider !== "sqlite") throw new Error("expected sqlite");
    return db;
  };

  it("a Prisma write while a metrics transaction is open across awaits", async () => {
    const d = await open();
    if (d.provider !== "sqlite") return;
    const io = createSqliteIo(d.sqlite);
    let prismaDoneWhileLocked = false;
    const metrics = io.write("run", async () => {
      // hold the write lock over several event-loop turns, as a big batch does
      for (let i = 0; i < 5; i++) await sleep(20);
      return "metrics";
    });
    await sleep(5);
    const started = Date.now();
    const project = d.prisma.project.create({ data: { name: "during-metrics" } }).then((p) => {
      prismaDoneWhileLocked = true;
      return p;
    });
    expect(await metrics).toBe("metrics");
    expect((await project).name).toBe("during-metrics");
    expect(prismaDoneWhileLocked).toBe(true);
    // not a speed assertion: a busy-wait would have blocked for the whole 10 s timeout, then failed
    expect(Date.now() - started).toBeLessThan(9_000);
  });

  it("a metrics transaction while Prisma holds a transaction across awaits", async () => {
    const d = await open();
    if (d.provider !== "sqlite") return;
    const io = createSqliteIo(d.sqlite);
    const prismaTx = d.prisma.$transaction(async (tx) => {
      await tx.project.create({ data: { name: "tx" } });
      for (let i = 0; i < 5; i++) await sleep(20);
      return "prisma";
    });
    await sleep(10);
    const started = Date.now();
    const metrics = io.write("run", async (ops) => {
      await ops.advanceWriter("run", "w", 1).catch(() => undefined);
      return "metrics";
    });
    expect(await prismaTx).toBe("prisma");
    expect(await metrics).toBe("metrics");
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(await d.prisma.project.count()).toBe(1);
  });
});
