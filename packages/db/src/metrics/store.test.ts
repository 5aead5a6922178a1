import type { MetricPoint } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Database } from "../client";
import { describePg, openTestPg } from "../testing/pg";
import { openTestSqlite } from "../testing/sqlite";
import { createMetricsStore } from "./index";
import { BruteForce, randomPoints, rng, shuffle } from "./test-support";
import type { MetricsStore } from "./types";

type Opened = { db: Database; drop(): Promise<void> };

function storeSuite(open: () => Promise<Opened>) {
  let t: Opened;
  let store: MetricsStore;
  beforeAll(async () => {
    t = await open();
    store = createMetricsStore(t.db);
  });
  afterAll(async () => t?.drop());
  let n = 0;
  const run = () => `run${++n}`;
  const pt = (key: string, step: number, value: number, ts = 1000 + step): MetricPoint => ({ key, step, value, ts });

  it("round-trips exact points with their timestamps", async () => {
    const r = run();
    await store.write(r, [pt("a", 3, 0.5, 1.5), pt("a", 1, 0.25, 7), pt("b", 2, -1)]);
    expect(await store.series({ runId: r, key: "a", maxPoints: 1000 })).toEqual({
      key: "a",
      bucketed: false,
      steps: [1, 3],
      values: [0.25, 0.5],
      ts: [7, 1.5],
    });
    expect(await store.keys(r)).toEqual(["a", "b"]);
    expect((await store.series({ runId: r, key: "zzz", maxPoints: 10 })).steps).toEqual([]);
  });

  it("is idempotent: duplicates, retries and reordered batches change nothing; first write wins", async () => {
    const r = run();
    expect(await store.write(r, [pt("k", 5, 1), pt("k", 5, 2), pt("k", 6, 3)])).toEqual({ inserted: 2 });
    expect(await store.write(r, [pt("k", 5, 9), pt("k", 6, 9)])).toEqual({ inserted: 0 });
    expect((await store.series({ runId: r, key: "k", maxPoints: 10 })).values).toEqual([1, 3]);
    expect((await store.summaries([r]))[r]!.k).toMatchObject({ count: 2, min: 1, max: 3, last: 3, lastStep: 6 });

    // 5,000 points in 50 batches, sent shuffled with every batch sent twice and overlapping re-slices
    const rand = rng(7);
    const points = randomPoints(rand, ["x", "y"], 2500);
    const batches: MetricPoint[][] = [];
    for (let i = 0; i < points.length; i += 100) batches.push(points.slice(i, i + 100));
    for (let i = 0; i < 20; i++) {
      const a = Math.floor(rand() * points.length);
      batches.push(points.slice(a, a + 300).map((p) => ({ ...p, value: p.value + 1 })));
    }
    const sends = shuffle(rand, [...batches, ...batches]);
    const r2 = run();
    const bf = new BruteForce();
    let inserted = 0;
    for (const b of sends) {
      bf.write(b);
      inserted += (await store.write(r2, b)).inserted;
    }
    expect(inserted).toBe(bf.sorted("x").length + bf.sorted("y").length);
    for (const key of ["x", "y"]) {
      expect(await store.series({ runId: r2, key, maxPoints: 100_000 })).toEqual(bf.query(key, 100_000));
      expect(await store.series({ runId: r2, key, maxPoints: 50 })).toEqual(bf.query(key, 50));
    }
    // concurrent writers to one run: serialized, nothing lost or doubled
    const r3 = run();
    const res = await Promise.all(batches.map((b) => store.write(r3, b)));
    expect(res.reduce((a, x) => a + x.inserted, 0)).toBe(inserted);
  });

  it("stores NaN/±Inf as such, returns them as gaps and keeps them out of summaries", async () => {
    const r = run();
    await store.write(r, [pt("v", 0, 1), pt("v", 1, NaN), pt("v", 2, Infinity), pt("v", 3, -Infinity), pt("v", 4, 2), pt("v", 5, NaN)]);
    expect((await store.series({ runId: r, key: "v", maxPoints: 10 })).values).toEqual([1, null, null, null, 2, null]);
    const s = (await store.summaries([r]))[r]!.v!;
    expect(s).toMatchObject({ count: 6, min: 1, max: 2, last: 2, lastStep: 4, maxStep: 5 });
    const scanned = [];
    for await (const b of store.scan(r)) scanned.push(...b);
    expect(scanned.map((p) => p.value)).toEqual([1, NaN, Infinity, -Infinity, 2, NaN]);
    const b = await store.series({ runId: r, key: "v", maxPoints: 2 });
    expect(b).toMatchObject({ bucketed: true, bucketWidth: 4, steps: [3, 5], min: [1, 2], max: [1, 2], last: [null, null], counts: [4, 2] });
  });

  it("rewind drops every point after the step, fixes rollups and summaries, and lets the tail be rewritten", async () => {
    const r = run();
    const bf = new BruteForce();
    const rand = rng(11);
    const points = randomPoints(rand, ["a", "b", "c"], 6000);
    for (let i = 0; i < points.length; i += 2000) {
      bf.write(points.slice(i, i + 2000));
      await store.write(r, points.slice(i, i + 2000));
    }
    // system metrics (stepped in seconds) are not a training tail: a rewind keeps them all
    const sys = Array.from({ length: 3000 }, (_, i) => pt("sys/host/cpu_pct", i * 7, i % 100));
    await store.write(r, sys);
    const cut = bf.sorted("a")[3000]![0];
    const before = [...bf.series.values()].reduce((a, m) => a + m.size, 0);
    bf.rewind(cut);
    const after = [...bf.series.values()].reduce((a, m) => a + m.size, 0);
    expect(await store.rewind(r, cut)).toEqual({ deleted: before - after });
    const tail = bf.sorted("a").slice(-1)[0]![0];
    const resumed = Array.from({ length: 4000 }, (_, i) => pt("a", tail + 1 + i * 3, 100 + i));
    bf.write(resumed);
    await store.write(r, resumed);
    const sums = (await store.summaries([r]))[r]!;
    for (const key of ["a", "b", "c"]) {
      const exp = bf.sorted(key);
      if (!exp.length) {
        expect(sums[key]).toBeUndefined();
        continue;
      }
      const finite = exp.filter(([, p]) => Number.isFinite(p.value));
      expect(sums[key]).toEqual({
        count: exp.length,
        firstStep: exp[0]![0],
        maxStep: exp.at(-1)![0],
        min: Math.min(...finite.map(([, p]) => p.value)),
        max: Math.max(...finite.map(([, p]) => p.value)),
        last: finite.at(-1)![1].value,
        lastStep: finite.at(-1)![0],
      });
      for (const maxPoints of [3, 100, 1000, 100_000]) expect(await store.series({ runId: r, key, maxPoints })).toEqual(bf.query(key, maxPoints));
    }
    expect(await store.series({ runId: r, key: "sys/host/cpu_pct", maxPoints: 100_000 })).toMatchObject({ bucketed: false, steps: sys.map((p) => p.step) });
    expect(await store.rewind(r, 10 ** 12)).toEqual({ deleted: 0 });
    expect(await store.rewind(r, 0)).toMatchObject({ deleted: expect.any(Number) });
    expect(await store.keys(r)).toEqual(["sys/host/cpu_pct"]);
    expect((await store.summaries([r]))[r]!["sys/host/cpu_pct"]).toMatchObject({ count: sys.length, lastStep: sys.at(-1)!.step });
  });

  it("buckets match a brute force on random data, at random ranges (property, seeded)", async () => {
    const rand = rng(42);
    const r = run();
    const bf = new BruteForce();
    const keys = ["d", "e", "f", "g"];
    const points = shuffle(rand, randomPoints(rand, keys, 8000));
    for (let i = 0; i < points.length; i += 4000) {
      bf.write(points.slice(i, i + 4000));
      await store.write(r, points.slice(i, i + 4000));
    }
    for (let i = 0; i < 120; i++) {
      const key = keys[i % keys.length]!;
      const all = bf.sorted(key);
      const a = all[Math.floor(rand() * all.length)]![0] + Math.floor((rand() - 0.5) * 200);
      const b = all[Math.floor(rand() * all.length)]![0] + Math.floor((rand() - 0.5) * 200);
      const stepMin = rand() < 0.2 ? undefined : Math.max(0, Math.min(a, b));
      const stepMax = rand() < 0.2 ? undefined : Math.max(0, a, b);
      const maxPoints = [2, 7, 64, 300, 1000, 5000][Math.floor(rand() * 6)]!;
      const got = await store.series({ runId: r, key, maxPoints, stepMin, stepMax });
      expect(got, JSON.stringify({ key, maxPoints, stepMin, stepMax })).toEqual(bf.query(key, maxPoints, stepMin, stepMax));
      expect(got.steps.length).toBeLessThanOrEqual(maxPoints);
    }
    // zooming in never gets coarser
    const wide = await store.series({ runId: r, key: "d", maxPoints: 100 });
    const narrow = await store.series({ runId: r, key: "d", maxPoints: 100, stepMin: wide.steps[10], stepMax: wide.steps[40] });
    expect(narrow.bucketWidth ?? 0).toBeLessThan(wide.bucketWidth!);
  });

  it("sparse series (a coarse base level) answer like dense ones, through rewinds too", async () => {
    const rand = rng(5);
    const r = run();
    const bf = new BruteForce();
    // step = samples seen (×128) for one key, every 1,000 steps for another: no 64/256-step cells
    const pts = [
      ...Array.from({ length: 6000 }, (_, i) => pt("samples", i * 128, Math.cos(i / 50) + rand())),
      ...Array.from({ length: 800 }, (_, i) => pt("eval", i * 1000, rand())),
    ];
    for (let i = 0; i < pts.length; i += 1700) {
      bf.write(pts.slice(i, i + 1700));
      await store.write(r, pts.slice(i, i + 1700));
    }
    const check = async () => {
      for (const key of ["samples", "eval"]) {
        for (const [maxPoints, stepMin, stepMax] of [[1000], [100], [7], [300, 5000, 90_000], [50, 12_345, 400_000], [2000, 0, 10 ** 9]] as const) {
          expect(await store.series({ runId: r, key, maxPoints, stepMin, stepMax })).toEqual(bf.query(key, maxPoints, stepMin, stepMax));
        }
      }
    };
    await check();
    bf.rewind(300_000);
    await store.rewind(r, 300_000);
    await check();
  });

  it("buckets carry their last point's time: rising with steps, whatever the write order", async () => {
    const r = run();
    // ts rises with step but not evenly (a slow evaluation phase in the middle)
    const tsOf = (i: number) => 5000 + i * 10 + (i > 2000 ? 60_000 : 0);
    const pts = Array.from({ length: 5000 }, (_, i) => pt("loss", i, 1 / (i + 1), tsOf(i)));
    await store.write(r, shuffle(rng(3), pts.slice()));
    const b = await store.series({ runId: r, key: "loss", maxPoints: 100 });
    expect(b.bucketed).toBe(true);
    expect(b.ts).toEqual(b.steps.map(tsOf));
    expect(b.ts!.every((t, i) => i === 0 || t > b.ts![i - 1]!)).toBe(true);
    // compare answers carry them too
    const [c] = await store.compare({ runIds: [r], key: "loss", maxPoints: 100 });
    expect(c!.ts).toEqual(b.ts);
  });

  it("reads rollups written before they kept a ts (migration 0002): times come from the chunks", async () => {
    const r = run();
    const bf = new BruteForce();
    const pts = randomPoints(rng(9), ["old"], 6000);
    bf.write(pts);
    await store.write(r, pts);
    const expected = bf.query("old", 200);
    const sql = `UPDATE "MetricRollup" SET "lastTs" = NULL WHERE "runId" = `;
    const forget = async () => (t.db.provider === "sqlite" ? void t.db.sqlite.prepare(sql + "?").run(r) : void (await t.db.pool.query(sql + "$1", [r])));
    await forget();
    expect(await store.series({ runId: r, key: "old", maxPoints: 200 })).toEqual(expected);
    // new points merged into such rows: cells whose last point is new get its ts, the rest still read right
    const more = randomPoints(rng(10), ["old"], 3000).map((p) => ({ ...p, step: p.step * 2 + 1 }));
    bf.write(more);
    await store.write(r, more);
    for (const maxPoints of [50, 200, 1000]) expect(await store.series({ runId: r, key: "old", maxPoints })).toEqual(bf.query("old", maxPoints));
  });

  it("compare overlays runs with shared bucket boundaries; summaries cover many runs", async () => {
    const r1 = run();
    const r2 = run();
    await store.write(
      r1,
      Array.from({ length: 5000 }, (_, i) => pt("loss", i, 1 / (i + 1))),
    );
    await store.write(
      r2,
      Array.from({ length: 3000 }, (_, i) => pt("loss", i * 2, 2 / (i + 1))),
    );
    const [a, b] = await store.compare({ runIds: [r1, r2], key: "loss", maxPoints: 100 });
    expect(a!.runId).toBe(r1);
    expect(b!.runId).toBe(r2);
    expect(a!.bucketWidth).toBe(b!.bucketWidth);
    const sums = await store.summaries([r1, r2, "nope"]);
    expect(Object.keys(sums)).toEqual([r1, r2, "nope"]);
    expect(sums[r2]!.loss).toMatchObject({ count: 3000, maxStep: 5998 });
    await store.deleteRun(r1);
    expect(await store.keys(r1)).toEqual([]);
    expect(await store.keys(r2)).toEqual(["loss"]);
  });

  it("a batch failing inside the transaction rolls back alone; concurrent batches commit", async () => {
    const [a, b, c] = [run(), run(), run()];
    // RunWriter references Run: a writer row for a run that does not exist fails in the database
    const results = await Promise.allSettled([
      store.write(a, [pt("m", 1, 1)]),
      store.write(b, [pt("m", 1, 1)], { writer: "0", ackSeq: 1 }),
      store.write(c, [pt("m", 2, 2)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await store.keys(a)).toEqual(["m"]);
    expect(await store.keys(b)).toEqual([]);
    expect((await store.series({ runId: c, key: "m", maxPoints: 10 })).values).toEqual([2]);
  });

  it("refuses bad points with a clear error and writes nothing of that batch", async () => {
    const r = run();
    const good = pt("ok", 1, 1);
    for (const [bad, msg] of [
      [pt("ok", -1, 1), /step must be an integer/],
      [pt("ok", 1.5, 1), /step must be an integer/],
      [pt("ok", 2 ** 53, 1), /step must be an integer/],
      [pt("", 1, 1), /key must be 1–512/],
      [pt("x".repeat(513), 1, 1), /key must be 1–512/],
      [{ key: "ok", step: 1, value: "1" as unknown as number, ts: 1 }, /value must be a number/],
    ] as const) {
      await expect(store.write(r, [good, bad])).rejects.toThrow(msg);
    }
    expect(await store.keys(r)).toEqual([]);
    await store.write(r, [pt("ok", 2 ** 53 - 1, 1)]);
    expect((await store.series({ runId: r, key: "ok", maxPoints: 10 })).steps).toEqual([2 ** 53 - 1]);
  });
}

describe("metrics store on SQLite", () => storeSuite(openTestSqlite));
describePg("metrics store on PostgreSQL", () => storeSuite(openTestPg));
