import { type MetricPoint, PROTOCOL_VERSION } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, postgresAvailable, type Provider, startTestServer, type TestServer } from "../../testing/harness";
import { addTeamMember } from "../../testing/team";

const pgOk = await postgresAvailable();

/** metric.groupedSeries over tRPC, on SQLite and PostgreSQL: runs grouped by a config value, a tag or a job group. */
function suite(provider: Provider) {
  let t: TestServer;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestServer(provider);
    const s = t.server.services;
    // loss = offset + step/1000 for steps 0..n-1: group means and bands are easy to predict
    const seed = async (name: string, lr: number, offset: number, n: number, tags: string[]) => {
      const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "grouped", name, resume: "never", config: { opt: { lr } }, tags, group: "sweep-1" });
      const pts: MetricPoint[] = Array.from({ length: n }, (_, step) => ({ key: "loss", step, value: offset + step / 1000, ts: 1_700_000_000_000 + step }));
      await s.metrics.write(run.id, pts);
      ids[name] = run.id;
    };
    await seed("a1", 0.1, 0, 100, ["x"]);
    await seed("a2", 0.1, 2, 100, ["x", "y"]);
    await seed("b1", 0.01, 10, 100, ["y"]);
    // a long run: read from rollups in buckets
    await seed("long", 0.5, 0, 20_000, []);
  });
  afterAll(async () => t?.close());

  it("folds runs by a config value: mean, min, max and std per step on one grid", async () => {
    const g = await t.api.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.a1!, ids.a2!, ids.b1!], key: "loss", by: "config:opt.lr" });
    expect(g.bucketWidth).toBe(1);
    expect(g.x).toHaveLength(100);
    expect(g.groups.map((x) => [x.name, x.runIds.length])).toEqual([
      ["0.1", 2],
      ["0.01", 1],
    ]);
    const a = g.groups[0]!;
    expect(a.n[10]).toBe(2);
    expect(a.mean[10]).toBeCloseTo(1.01, 9);
    expect(a.min[10]).toBeCloseTo(0.01, 9);
    expect(a.max[10]).toBeCloseTo(2.01, 9);
    expect(a.std[10]).toBeCloseTo(1, 9);
    expect(g.groups[1]!.std[10]).toBe(0);
  });

  it("draws groups against another metric (xKey): each cell's x is the runs' epoch there, ascending", async () => {
    const s = t.server.services;
    // epoch = step / 10 on the three short runs
    for (const name of ["a1", "a2", "b1"])
      await s.metrics.write(
        ids[name]!,
        Array.from({ length: 100 }, (_, step) => ({ key: "train/epoch", step, value: step / 10, ts: 1_700_000_000_000 + step })),
      );
    const g = await t.api.metric.groupedSeries.query({
      projectId: "grouped",
      runIds: [ids.a1!, ids.a2!, ids.b1!],
      key: "loss",
      by: "config:opt.lr",
      xKey: "train/epoch",
    });
    expect(g.xKey).toBe("train/epoch");
    expect(g.x).toHaveLength(100);
    expect(g.x[10]).toBeCloseTo(1, 9);
    expect(g.x[99]).toBeCloseTo(9.9, 9);
    expect(g.groups[0]!.mean[10]).toBeCloseTo(1.01, 9); // the same cell as on the step axis
    // a long series: rollup cells, the epoch carried to each cell's end
    await s.metrics.write(
      ids.long!,
      Array.from({ length: 20 }, (_, e) => ({ key: "train/epoch", step: e * 1000, value: e, ts: 1_700_000_000_000 + e })),
    );
    const long = await t.api.metric.groupedSeries.query({
      projectId: "grouped",
      runIds: [ids.long!],
      key: "loss",
      by: "tag",
      xKey: "train/epoch",
      maxPoints: 200,
    });
    expect(long.x[0]).toBe(0);
    expect(long.x.at(-1)).toBe(19);
    expect(long.x.every((x, i) => i === 0 || x >= long.x[i - 1]!)).toBe(true);
    await expect(t.api.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.a1!], key: "loss", by: "tag", xKey: "" })).rejects.toThrow(
      /metric key must not be empty/,
    );
  });

  it("reads long series of many runs from rollup cells, not raw points", async () => {
    const s = t.server.services;
    const runIds: string[] = [];
    for (let i = 0; i < 25; i++) {
      const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "grouped-many", name: `m${i}`, resume: "never", config: { g: i % 5 } });
      await s.metrics.write(
        run.id,
        Array.from({ length: 10_000 }, (_, step) => ({ key: "loss", step, value: (i % 5) + Math.exp(-step / 3000), ts: 1_700_000_000_000 + step })),
      );
      runIds.push(run.id);
    }
    const g = await t.api.metric.groupedSeries.query({ projectId: "grouped-many", runIds, key: "loss", by: "config:g", maxPoints: 1000 });
    // 250,000 points > the raw budget: 64-step cells (the finest rollup), 157 of them
    expect(g.bucketWidth).toBe(64);
    expect(g.x).toHaveLength(157);
    expect(g.groups).toHaveLength(5);
    expect(g.groups[0]!.n.every((n) => n === 5)).toBe(true);
    expect(g.groups[2]!.mean[0]).toBeGreaterThan(2.9);
  }, 60_000);

  it("groups by tag (a run in each of its tags' groups) and puts untagged runs in (none)", async () => {
    const g = await t.api.metric.groupedSeries.query({
      projectId: "grouped",
      runIds: [ids.a1!, ids.a2!, ids.b1!, ids.long!],
      key: "loss",
      by: "tag",
      maxPoints: 200,
    });
    expect(g.groups.map((x) => [x.name, x.runIds.length])).toEqual([
      ["x", 2],
      ["y", 2],
      ["(none)", 1],
    ]);
    // 20,000 steps in ≤ 200 cells: a power-of-two grid, every group on the same x
    expect(g.bucketWidth).toBe(128);
    expect(g.x.length).toBeLessThanOrEqual(200);
    const none = g.groups[2]!;
    expect(none.n.filter((n) => n > 0)).toHaveLength(g.x.length);
    // the short runs only reach the first cell
    expect(g.groups[0]!.n.filter((n) => n > 0)).toHaveLength(1);
  });

  it("refuses runs of another project or in the trash, and an unknown group-by, with a clear message", async () => {
    await expect(t.api.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.a1!], key: "loss", by: "colour" })).rejects.toThrow(
      /group-by must be "tag", "group" or "config:<key>"/,
    );
    const { run } = await t.server.services.runs.init({ v: PROTOCOL_VERSION, project: "elsewhere", name: "o", resume: "never" });
    await expect(t.api.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.a1!, run.id], key: "loss", by: "group" })).rejects.toThrow(
      new RegExp(`run "${run.id}" not found in project "grouped"`),
    );
    const viewer = createApi(t.server.url, (await addTeamMember(t, "v@grouped.test", { project: "grouped", role: "viewer" })).key);
    expect((await viewer.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.b1!], key: "loss", by: "group" })).groups[0]!.name).toBe("sweep-1");
    await t.api.run.delete.mutate({ runIds: [ids.b1!] });
    await expect(viewer.metric.groupedSeries.query({ projectId: "grouped", runIds: [ids.b1!], key: "loss", by: "group" })).rejects.toThrow(/not found/);
    await t.api.run.restore.mutate({ runIds: [ids.b1!] });
  });
}

describe("grouped series on SQLite", () => suite("sqlite"));
describe.skipIf(!pgOk)("grouped series on PostgreSQL", () => suite("postgres"));
