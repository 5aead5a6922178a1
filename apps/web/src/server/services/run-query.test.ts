import { type MetricPoint, PROTOCOL_VERSION } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { postgresAvailable, type Provider, startTestServer, type TestServer } from "../../testing/harness";

const pgOk = await postgresAvailable();

/** run.page (services/run-query.ts): the runs table filtered, sorted and paged in SQL, on SQLite and PostgreSQL. */
function suite(provider: Provider) {
  let t: TestServer;
  let projectId = "";
  const N = 60;
  beforeAll(async () => {
    t = await startTestServer(provider);
    const s = t.server.services;
    const { run: first } = await s.runs.init({ v: PROTOCOL_VERSION, project: "table", name: "seed", resume: "never" });
    projectId = first.projectId;
    await s.prisma.run.delete({ where: { id: first.id } });
    const t0 = Date.UTC(2026, 0, 1);
    await s.prisma.run.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        id: `table-${String(i).padStart(3, "0")}`,
        projectId,
        name: i === 7 ? "odd 100%_done" : `run-${String(i).padStart(3, "0")}`,
        status: i % 3 === 0 ? "crashed" : "finished",
        tags: i % 2 === 0 ? ["even", `mod5-${i % 5}`] : [`mod5-${i % 5}`],
        group: i < 30 ? "first-half" : null,
        config: { lr: [0.1, 0.01, 0.001][i % 3], seed: i, model: { depth: i % 4 }, name: i % 2 ? "b" : "a", flag: i % 2 === 0 },
        summary: i % 4 === 0 ? { best: i / 100 } : {},
        createdAt: new Date(t0 + i * 60_000),
        finishedAt: new Date(t0 + i * 60_000 + (N - i) * 1000),
        ...(i === 58 ? { archivedAt: new Date() } : {}),
        ...(i === 59 ? { deletedAt: new Date() } : {}),
      })),
    });
    // a metric on every third run: loss = 1/(i+1) at its last step
    for (let i = 0; i < N; i += 3) {
      const points: MetricPoint[] = [0, 1].map((step) => ({ key: "train/loss", step, value: step === 1 ? 1 / (i + 1) : 5, ts: t0 + step }));
      await s.metrics.write(`table-${String(i).padStart(3, "0")}`, points);
    }
  }, 60_000);
  afterAll(async () => t?.close());

  const page = (input: Record<string, unknown>) => t.api.run.page.query({ projectId: "table", ...input } as Parameters<typeof t.api.run.page.query>[0]);
  const ids = async (input: Record<string, unknown>) => (await page(input)).runs.map((r) => Number(r.id.slice(6)));

  it("pages newest first with a total; pages neither overlap nor skip", async () => {
    const first = await page({ limit: 25 });
    expect(first.total).toBe(58); // archived and trashed runs are not in the default view
    expect(first.runs.map((r) => r.id)[0]).toBe("table-057");
    const all = [...first.runs, ...(await page({ limit: 25, offset: 25 })).runs, ...(await page({ limit: 25, offset: 50 })).runs].map((r) => r.id);
    expect(all).toHaveLength(58);
    expect(new Set(all).size).toBe(58);
    // rows are shaped as run.list's: summaries of their metrics and a duration
    const r0 = first.runs.find((r) => r.id === "table-057")!;
    expect(r0.durationMs).toBe(3000);
    expect((await page({ offset: 1000 })).runs).toEqual([]);
    expect(await ids({ view: "archived" })).toEqual([58]);
    expect(await ids({ view: "trash" })).toEqual([59]);
    expect((await page({ view: "all" })).total).toBe(59);
  });

  it("sorts by name, a config key, a summary key and a metric's last value, empty cells last", async () => {
    expect(await ids({ sort: { col: "name", dir: 1 }, limit: 2 })).toEqual([7, 0]); // "odd 100%_done" < "run-000"
    expect(await ids({ sort: { col: "config:seed", dir: -1 }, limit: 3 })).toEqual([57, 56, 55]);
    // numbers compare as numbers, not text: 0.001 < 0.01 < 0.1
    const byLr = (await page({ sort: { col: "config:lr", dir: 1 }, limit: 500 })).runs.map((r) => (r.config as { lr: number }).lr);
    expect(byLr).toEqual([...byLr].sort((a, b) => a - b));
    expect(await ids({ sort: { col: "config:model.depth", dir: -1 }, limit: 2 })).toEqual([55, 51]);
    expect(await ids({ sort: { col: "summary:best", dir: -1 }, limit: 2 })).toEqual([56, 52]);
    const byLoss = await ids({ sort: { col: "metric:train/loss:last", dir: 1 }, limit: 500 });
    expect(byLoss.slice(0, 3)).toEqual([57, 54, 51]);
    expect(byLoss.slice(0, 20).every((i) => i % 3 === 0)).toBe(true);
    expect(byLoss).toHaveLength(58); // runs without the metric come last, not left out
    expect(await ids({ sort: { col: "metric:train/loss:max", dir: -1 }, limit: 1 })).toEqual([57]); // all 5: newest first
    expect((await ids({ sort: { col: "duration", dir: -1 }, limit: 1 }))[0]).toBe(0);
  });

  it("searches words in name, tags and config, and key=value; hostile strings match literally", async () => {
    expect(await ids({ search: "RUN-01" })).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
    expect(await ids({ search: "100%_" })).toEqual([7]);
    expect(await ids({ search: "%" })).toEqual([7]);
    expect(await ids({ search: "_" })).toEqual([7]);
    expect(await ids({ search: "mod5-3 even" })).toEqual([48, 38, 28, 18, 8]);
    expect(await ids({ search: "seed=42" })).toEqual([42]);
    expect((await page({ search: "lr=0.01" })).total).toBe(19);
    expect((await page({ search: "name=b model.depth=1" })).total).toBe(15);
    expect((await page({ search: "flag=true" })).total).toBe(29);
    for (const hostile of [`'; DROP TABLE "Run"; --`, `" OR 1=1 --`, "\\", "' OR '1'='1", "seed=1'--"])
      expect((await page({ search: hostile })).runs).toEqual([]);
    await expect(page({ search: "a\u0000b" })).rejects.toThrow(/control characters/);
    expect((await page({})).total).toBe(58);
  });

  it("filters by config values, tag, status and group on the server", async () => {
    expect((await page({ config: [{ key: "lr", op: "eq", value: "0.1" }] })).total).toBe(20);
    expect((await page({ config: [{ key: "lr", op: "ne", value: "0.1" }] })).total).toBe(38);
    expect(await ids({ config: [{ key: "seed", op: "gte", value: "55" }] })).toEqual([57, 56, 55]);
    expect(
      await ids({
        config: [
          { key: "seed", op: "lt", value: "2" },
          { key: "name", op: "eq", value: "a" },
        ],
      }),
    ).toEqual([0]);
    expect(await ids({ config: [{ key: "seed", op: "gt", value: "not a number" }] })).toEqual([]);
    expect((await page({ config: [{ key: "no.such.key", op: "eq", value: "1" }] })).total).toBe(0);
    expect((await page({ tag: "even" })).total).toBe(29);
    expect((await page({ tag: "mod5-4", status: "crashed" })).runs.map((r) => r.id)).toEqual(["table-054", "table-039", "table-024", "table-009"]);
    expect((await page({ tag: "ev" })).total).toBe(0); // a whole tag, not a prefix
    // run.list keeps its contract (an array, newest first) and takes the same filters
    const list = await t.api.run.list.query({ projectId: "table", tag: "mod5-0", limit: 3 });
    expect(list.map((r) => r.id)).toEqual(["table-055", "table-050", "table-045"]);
    expect((await t.api.run.list.query({ projectId: "table", search: "seed=3" })).map((r) => r.id)).toEqual(["table-003"]);
  });

  it("refuses an unknown sort column, a huge page, a hostile config key with a clear message", async () => {
    await expect(page({ sort: { col: "password", dir: 1 } })).rejects.toThrow(/unknown sort column "password"/);
    await expect(page({ sort: { col: `config:a"b`, dir: 1 } })).rejects.toThrow(/unknown sort column/);
    await expect(page({ sort: { col: "metric:loss:median", dir: 1 } })).rejects.toThrow(/unknown sort column/);
    await expect(page({ limit: 100_000 })).rejects.toThrow(/limit must be at most 500/);
    await expect(page({ offset: -1 })).rejects.toThrow(/offset|too small|>=0/i);
    await expect(page({ config: [{ key: `x") OR 1=1 --`, value: "1" }] })).rejects.toThrow(/must not contain quotes/);
    await expect(page({ config: [{ key: "a..b", value: "1" }] })).rejects.toThrow(/empty segment/);
    await expect(page({ search: "x".repeat(201) })).rejects.toThrow(/search is longer than 200/);
  });

  it("lists the facets: every tag, config keys with their values, metric keys", async () => {
    const f = await t.api.run.facets.query({ projectId: "table" });
    expect(f.tags).toEqual(["even", "mod5-0", "mod5-1", "mod5-2", "mod5-3", "mod5-4"]);
    expect(f.configKeys.map((k) => k.key)).toEqual(["flag", "lr", "model.depth", "name", "seed"]);
    expect(f.configKeys.find((k) => k.key === "lr")).toMatchObject({ distinct: 3, values: ["0.001", "0.01", "0.1"] });
    expect(f.metricKeys).toEqual(["train/loss"]);
  });

  it("answers a page of a 10,000-run project quickly, sorted by a config key and filtered by tag", async () => {
    const s = t.server.services;
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      id: `big-${String(i).padStart(5, "0")}`,
      projectId,
      name: `big-${i}`,
      status: "finished",
      tags: [`tag-${i % 10}`],
      config: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`param_${String(k).padStart(2, "0")}`, (i * (k + 1)) % 17])),
      createdAt: new Date(Date.UTC(2025, 0, 1) + i * 1000),
    }));
    for (let i = 0; i < rows.length; i += 1000) await s.prisma.run.createMany({ data: rows.slice(i, i + 1000) });
    await page({ limit: 1 }); // warm
    const timed = async (input: Record<string, unknown>) => {
      const t0 = performance.now();
      const r = await page(input);
      return { ms: performance.now() - t0, r };
    };
    const plain = await timed({ limit: 100 });
    const tagged = await timed({ limit: 100, tag: "tag-3" });
    const sorted = await timed({ limit: 100, sort: { col: "config:param_03", dir: -1 }, search: "big-1" });
    const facets0 = performance.now();
    await t.api.run.facets.query({ projectId: "table" });
    const facetsMs = performance.now() - facets0;
    expect(plain.r.total).toBe(10_058);
    expect(tagged.r.total).toBe(1000);
    expect(tagged.r.runs.every((r) => (r.tags as string[]).includes("tag-3"))).toBe(true);
    expect(sorted.r.runs).toHaveLength(100);
    console.log(
      `[run.page ${provider}] 10,058 runs: newest page ${plain.ms.toFixed(0)} ms, tag filter ${tagged.ms.toFixed(0)} ms, config sort + search ${sorted.ms.toFixed(0)} ms, facets ${facetsMs.toFixed(0)} ms`,
    );
    // generous bounds for a loaded 2-core CI host; the figures above are the point
    expect(Math.max(plain.ms, tagged.ms, sorted.ms)).toBeLessThan(3000);
  }, 120_000);
}

describe("run.page on SQLite", () => suite("sqlite"));
describe.skipIf(!pgOk)("run.page on PostgreSQL", () => suite("postgres"));
