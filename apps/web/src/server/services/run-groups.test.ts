import { groupRuns, PROTOCOL_VERSION } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, postgresAvailable, type Provider, startTestServer, type TestServer } from "../../testing/harness";
import { addTeamMember } from "../../testing/team";

const pgOk = await postgresAvailable();

/**
 * run.groups (services/run-groups.ts) and run.page's `pinned` and `inGroup`: the folded runs
 * table and pinned runs across pages, on SQLite and PostgreSQL.
 */
function suite(provider: Provider) {
  let t: TestServer;
  let projectId = "";
  const N = 45;
  const id = (i: number) => `grp-${String(i).padStart(3, "0")}`;
  beforeAll(async () => {
    t = await startTestServer(provider);
    const s = t.server.services;
    const { run: first } = await s.runs.init({ v: PROTOCOL_VERSION, project: "folded", name: "seed", resume: "never" });
    projectId = first.projectId;
    await s.prisma.run.delete({ where: { id: first.id } });
    const t0 = Date.UTC(2026, 0, 1);
    // lr: 3 numeric values (one run holds it as the string "0.1"), opt: a string, absent on
    // every 5th run and "" on run 44; tags: none on every 4th run, a duplicated tag on run 1
    await s.prisma.run.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        id: id(i),
        projectId,
        name: `run-${i}`,
        status: i % 3 === 0 ? "crashed" : "finished",
        tags: i % 4 === 0 ? [] : i === 1 ? ["odd", "odd"] : [i % 2 ? "odd" : "even", `m${i % 3}`],
        group: i < 20 ? "sweep-a" : i < 30 ? "sweep-b" : null,
        config: {
          lr: i === 2 ? "0.1" : [0.1, 0.01, 0.001][i % 3],
          ...(i % 5 === 0 ? {} : { opt: { name: i === 44 ? "" : i % 2 ? "adam" : "sgd" } }),
          shape: [1, i % 2],
        },
        createdAt: new Date(t0 + i * 60_000),
        ...(i === 43 ? { archivedAt: new Date() } : {}),
        ...(i === 42 ? { deletedAt: new Date() } : {}),
      })),
    });
  }, 60_000);
  afterAll(async () => t?.close());

  const groups = (input: Record<string, unknown>) =>
    t.api.run.groups.query({ projectId: "folded", by: "tag", ...input } as Parameters<typeof t.api.run.groups.query>[0]);
  const page = (input: Record<string, unknown>) => t.api.run.page.query({ projectId: "folded", ...input } as Parameters<typeof t.api.run.page.query>[0]);
  const counts = async (input: Record<string, unknown>) => (await groups(input)).groups.map((g) => `${g.label}:${g.count}`);
  /** every run of one group, through run.page's `inGroup`, pages of 7 */
  const openGroup = async (by: string, value: string | null) => {
    const out: string[] = [];
    for (let offset = 0; ; offset += 7) {
      const p = await page({ inGroup: { by, value }, limit: 7, offset });
      out.push(...p.runs.map((r) => r.id));
      if (offset + 7 >= p.total) return out;
    }
  };

  it("folds every run the filters keep, not one page's, with counts that match @heron/core's groupRuns", async () => {
    // the active view: 43 runs (42 trashed, 43 archived)
    const all = (await page({ limit: 500 })).runs;
    expect(all).toHaveLength(43);
    for (const by of ["tag", "group", "config:lr", "config:opt.name", "config:shape"]) {
      const server = await groups({ by });
      const local = groupRuns(all, by);
      // the same groups and counts (runs tied on their newest run may come in another order)
      const byLabel = (a: [string, number], b: [string, number]) => a[0].localeCompare(b[0]);
      expect(server.groups.map((g): [string, number] => [g.label, g.count]).sort(byLabel)).toEqual(
        local.map((g): [string, number] => [g.name, g.runs.length]).sort(byLabel),
      );
      expect(server.groupCount).toBe(local.length);
      expect(server.total).toBe(43);
      // opening each group lists exactly the runs it counted, page by page
      for (const g of server.groups)
        expect((await openGroup(by, g.value)).sort()).toEqual(
          local
            .find((l) => l.name === g.label)!
            .runs.map((r) => r.id)
            .sort(),
        );
    }
  });

  it("orders groups by their newest run, (none) last with a null value; filters and views apply", async () => {
    expect(await counts({ by: "group" })).toEqual(["sweep-b:10", "sweep-a:20", "(none):13"]);
    const none = (await groups({ by: "config:opt.name" })).groups.at(-1)!;
    expect(none).toEqual({ value: null, label: "(none)", count: 10 }); // 0, 5 … 40 without the key, and 44's ""
    // the string "0.1" (run 2) and the number 0.1 read the same in the table: one group, as groupRuns folds them
    expect(await counts({ by: "config:lr" })).toEqual(["0.001:14", "0.01:14", "0.1:15"]);
    expect(await counts({ by: "config:lr", status: "crashed" })).toEqual(["0.1:14"]);
    // run-1, run-10 … run-19: 12 and 16 untagged; 1, 11, 13, 15, 17, 19 odd (run 1 once, though tagged twice)
    expect((await counts({ by: "tag", search: "run-1" })).sort()).toEqual(["(none):2", "even:3", "m0:2", "m1:3", "m2:3", "odd:6"]);
    expect(await counts({ by: "group", view: "archived" })).toEqual(["(none):1"]);
    expect(await counts({ by: "group", view: "trash" })).toEqual(["(none):1"]);
    expect(await counts({ by: "config:no.such" })).toEqual(["(none):43"]);
    expect(await counts({ by: "tag", tag: "nope" })).toEqual([]);
  });

  it("caps the groups at 200 and says how many there are", async () => {
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "many-groups", name: "seed", resume: "never" });
    await s.prisma.run.createMany({
      data: Array.from({ length: 250 }, (_, i) => ({
        id: `mg-${i}`,
        projectId: run.projectId,
        name: `mg-${i}`,
        config: { seed: i },
        createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
      })),
    });
    const g = await t.api.run.groups.query({ projectId: "many-groups", by: "config:seed" });
    expect(g.groups).toHaveLength(200);
    expect(g.groupCount).toBe(251); // 250 seeds and the seed run's (none)
    expect(g.groups[0]).toMatchObject({ value: "249", count: 1 });
  });

  it("refuses a hostile group-by key and a malformed group with a clear message", async () => {
    await expect(groups({ by: `config:a"b` })).rejects.toThrow(/group-by config key must not contain quotes/);
    await expect(groups({ by: "colour" })).rejects.toThrow(/group-by must be "tag", "group" or "config:<key>"/);
    await expect(page({ inGroup: { by: "config:a..b", value: "1" } })).rejects.toThrow(/group-by config key/);
    await expect(page({ inGroup: { by: "tag", value: "a\u0000" } })).rejects.toThrow(/control characters/);
    for (const hostile of [`'; DROP TABLE "Run"; --`, `" OR 1=1 --`, "\\"]) expect((await page({ inGroup: { by: "tag", value: hostile } })).total).toBe(0);
  });

  it("pins runs to the top of every page, whatever the sort, left out of the pages and of the total", async () => {
    const pinned = [id(3), id(40)]; // run 3 is on the last page newest first, run 40 on the first
    for (const sort of [undefined, { col: "name", dir: 1 }, { col: "config:lr", dir: -1 }]) {
      const seen: string[] = [];
      for (let offset = 0; offset < 43; offset += 10) {
        const p = await page({ pinned, sort, limit: 10, offset });
        expect(p.pinnedRows.map((r) => r.id)).toEqual(pinned);
        expect(p.total).toBe(41);
        seen.push(...p.runs.map((r) => r.id));
      }
      expect(seen).toHaveLength(41);
      expect(seen.filter((x) => pinned.includes(x))).toEqual([]);
    }
    // pinned rows are shaped as the page's rows
    const p = await page({ pinned: [id(40)], limit: 1 });
    expect(Object.keys(p.pinnedRows[0]!).sort()).toEqual(Object.keys(p.runs[0]!).sort());
  });

  it("keeps pinned runs through the filters, naming those the filters would hide", async () => {
    const p = await page({ pinned: [id(40), id(3), id(7)], status: "crashed" });
    expect(p.pinnedRows.map((r) => r.id)).toEqual([id(40), id(3), id(7)]);
    expect(p.pinnedOutsideFilters).toEqual([id(40), id(7)]);
    expect(p.total).toBe(13); // 14 crashed in view, run 3 pinned
    expect(p.runs.some((r) => r.id === id(3))).toBe(false);
  });

  it("ignores pinned ids of another project, in the trash, outside the view or unknown; refuses more than 100", async () => {
    const s = t.server.services;
    const { run: foreign } = await s.runs.init({ v: PROTOCOL_VERSION, project: "elsewhere", name: "secret", resume: "never" });
    const pinned = [foreign.id, id(42), id(43), "no-such-run", id(5)];
    const p = await page({ pinned });
    expect(p.pinnedRows.map((r) => r.id)).toEqual([id(5)]);
    expect(p.total).toBe(42);
    expect((await page({ pinned, view: "all" })).pinnedRows.map((r) => r.id)).toEqual([id(43), id(5)]);
    // in the trash nothing is pinned: its runs page as they are
    const trash = await page({ pinned, view: "trash" });
    expect(trash.pinnedRows).toEqual([]);
    expect(trash.runs.map((r) => r.id)).toEqual([id(42)]);
    await expect(page({ pinned: Array.from({ length: 101 }, (_, i) => id(i)) })).rejects.toThrow(/at most 100 pinned runs/);
    await expect(page({ pinned: [""] })).rejects.toThrow(/id must not be empty/);
    // a viewer of this project only: the same answer, and nothing of the other project
    const viewer = createApi(t.server.url, (await addTeamMember(t, `v-${provider}@folded.test`, { project: "folded", role: "viewer" })).key);
    expect((await viewer.run.page.query({ projectId: "folded", pinned })).pinnedRows.map((r) => r.id)).toEqual([id(5)]);
    expect((await viewer.run.groups.query({ projectId: "folded", by: "group" })).total).toBe(43);
    await expect(viewer.run.groups.query({ projectId: "elsewhere", by: "group" })).rejects.toThrow(/needs|not found|cannot/);
  });

  it("folds 10,000 runs by a config value quickly", async () => {
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "big-fold", name: "seed", resume: "never" });
    const data = Array.from({ length: 10_000 }, (_, i) => ({
      id: `bf-${i}`,
      projectId: run.projectId,
      name: `bf-${i}`,
      tags: [`tag-${i % 10}`],
      config: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`param_${String(k).padStart(2, "0")}`, (i * (k + 1)) % 17])),
      createdAt: new Date(Date.UTC(2025, 0, 1) + i * 1000),
    }));
    for (let i = 0; i < data.length; i += 1000) await s.prisma.run.createMany({ data: data.slice(i, i + 1000) });
    await t.api.run.groups.query({ projectId: "big-fold", by: "tag" }); // warm
    const t0 = performance.now();
    const byConfig = await t.api.run.groups.query({ projectId: "big-fold", by: "config:param_03" });
    const t1 = performance.now();
    const byTag = await t.api.run.groups.query({ projectId: "big-fold", by: "tag", search: "bf-1" });
    const t2 = performance.now();
    const opened = await t.api.run.page.query({ projectId: "big-fold", inGroup: { by: "config:param_03", value: "5" }, limit: 50, pinned: ["bf-0", "bf-1"] });
    const t3 = performance.now();
    expect(byConfig.groups).toHaveLength(18); // 17 values and the seed run's (none)
    expect(byConfig.groups.reduce((n, g) => n + g.count, 0)).toBe(10_001);
    expect(byTag.groups).toHaveLength(10);
    expect(opened.total).toBe(byConfig.groups.find((g) => g.value === "5")!.count - (opened.pinnedRows.length - opened.pinnedOutsideFilters.length));
    console.log(
      `[run.groups ${provider}] 10,001 runs: by config ${(t1 - t0).toFixed(0)} ms, by tag + search ${(t2 - t1).toFixed(0)} ms, one group's page + 2 pins ${(t3 - t2).toFixed(0)} ms`,
    );
    // generous bounds for a loaded 2-core CI host; the figures above are the point
    expect(Math.max(t1 - t0, t2 - t1, t3 - t2)).toBeLessThan(3000);
  }, 120_000);
}

describe("run.groups and pinned runs on SQLite", () => suite("sqlite"));
describe.skipIf(!pgOk)("run.groups and pinned runs on PostgreSQL", () => suite("postgres"));
