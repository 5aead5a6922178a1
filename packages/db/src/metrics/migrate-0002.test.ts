// Migration 0002_rollup_last_ts on a database that already holds metrics written under 0001:
// it applies (nullable columns added to full tables), the old rollups read with each bucket's
// time taken from the chunks, and new writes merged into old cells stay correct.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Database } from "../client";
import { runMigrations } from "../migrate";
import { describePg, openTestPg } from "../testing/pg";
import { openTestSqlite } from "../testing/sqlite";
import { createMetricsStore } from "./index";
import { BruteForce, randomPoints, rng } from "./test-support";

type Opened = { db: Database; drop(): Promise<void> };

async function exec(db: Database, sql: string) {
  if (db.provider === "sqlite") db.sqlite.exec(sql);
  else await db.pool.query(sql);
}

function suite(open: () => Promise<Opened>) {
  let t: Opened;
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => t?.drop());

  it("applies on a 0001 database with data; old rollups read right, new points merge into them", async () => {
    const bf = new BruteForce();
    const pts = randomPoints(rng(21), ["old", "other"], 8000);
    bf.write(pts);
    await createMetricsStore(t.db).write("r-old", pts);
    // back to the 0001 shape, data kept: no lastTs columns, 0002 not recorded
    await exec(t.db, `ALTER TABLE "MetricRollup" DROP COLUMN "lastTs"`);
    await exec(t.db, `ALTER TABLE "MetricSeries" DROP COLUMN "lastTs"`);
    await exec(t.db, `DELETE FROM _heron_migrations WHERE id = '0002_rollup_last_ts'`);

    expect(await runMigrations(t.db)).toEqual(["0002_rollup_last_ts"]);
    const store = createMetricsStore(t.db);
    for (const key of ["old", "other"])
      for (const maxPoints of [40, 300, 100_000]) expect(await store.series({ runId: "r-old", key, maxPoints })).toEqual(bf.query(key, maxPoints));
    // new points (between the old steps) merged into cells without a ts
    const more = randomPoints(rng(22), ["old"], 3000).map((p) => ({ ...p, step: p.step * 2 + 1 }));
    bf.write(more);
    await store.write("r-old", more);
    for (const maxPoints of [40, 300, 100_000]) expect(await store.series({ runId: "r-old", key: "old", maxPoints })).toEqual(bf.query("old", maxPoints));
    const [c] = await store.compare({ runIds: ["r-old"], key: "other", maxPoints: 100 });
    expect(c!.ts).toEqual(bf.query("other", 100).ts);
  });
}

describe("migration 0002 on existing data (SQLite)", () => suite(openTestSqlite));
describePg("migration 0002 on existing data (PostgreSQL)", () => suite(openTestPg));
