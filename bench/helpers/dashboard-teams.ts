// The team-scale pages of `npm run bench -- dashboard`: the runs table of a project with
// 10,000 runs (20 config keys and 5 metrics each), opened plain and filtered by tag, and the
// charts page with 100 runs × 10,000 points folded into 5 groups (mean + min–max band). Each
// is timed beside a baseline in the same run: the runs table of a 10-run project, and the same
// 100 runs charted ungrouped (the first 50 overlaid).
import { performance } from "node:perf_hooks";

import { type MetricPoint, PROTOCOL_VERSION } from "@heron/core";
import type { Page } from "playwright-core";

import type { TestServer } from "../../apps/web/src/testing/harness";

export const TABLE_RUNS = 10_000;
const TAGS = 10;
const GROUP_RUNS = 100;
const GROUP_POINTS = 10_000;
const SUMMARY_KEYS = ["test/accuracy", "test/loss", "train/loss", "val/accuracy", "val/loss"];

/** a project of `n` finished runs: 20 config keys, one of 10 tags, 5 metrics of 3 points each; rows written in bulk */
async function seedTableProject(t: TestServer, project: string, n: number): Promise<void> {
  const s = t.server.services;
  const { run: first } = await s.runs.init({ v: PROTOCOL_VERSION, project, name: "seed", resume: "never" });
  await s.prisma.run.delete({ where: { id: first.id } });
  const t0 = Date.now() - n * 1000;
  const rows = Array.from({ length: n }, (_, i) => ({
    id: `${project}-${String(i).padStart(6, "0")}`,
    projectId: first.projectId,
    name: `run-${i}-t${i % TAGS}`,
    status: "finished",
    tags: [`tag-${i % TAGS}`],
    config: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`param_${String(k).padStart(2, "0")}`, k < 4 ? (i * (k + 1)) % 17 : k])),
    summary: { best_accuracy: (i % 100) / 100 },
    createdAt: new Date(t0 + i * 1000),
    finishedAt: new Date(t0 + i * 1000 + 500),
  }));
  for (let i = 0; i < rows.length; i += 500) await s.prisma.run.createMany({ data: rows.slice(i, i + 500) });
  for (const r of rows) {
    const points: MetricPoint[] = SUMMARY_KEYS.flatMap((key, k) => [0, 1, 2].map((step) => ({ key, step, value: (k + 1) / (step + 1), ts: t0 + step })));
    await s.metrics.write(r.id, points);
  }
}

/** 100 runs of 10,000 train/loss points each, config.grp = 0 … 4 */
async function seedGroupProject(t: TestServer, project: string): Promise<void> {
  const s = t.server.services;
  for (let i = 0; i < GROUP_RUNS; i++) {
    const grp = i % 5;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project, name: `g${grp}-${i}`, resume: "never", config: { grp, seed: i } });
    const points: MetricPoint[] = new Array(GROUP_POINTS);
    for (let step = 0; step < GROUP_POINTS; step++)
      points[step] = {
        key: "train/loss",
        step,
        value: (1 + grp) * Math.exp(-step / 3000) + Math.sin(step * 0.37 + i) * 0.05,
        ts: 1_700_000_000_000 + step * 100,
      };
    await s.metrics.write(run.id, points);
    await s.runs.finish(run.id, "finished");
  }
}

export type TeamFigures = {
  runs_table_ms: number;
  runs_table_tag_ms: number;
  runs_table_baseline_ms: number;
  grouped_chart_ms: number;
  grouped_chart_baseline_ms: number;
  grouped_query_ms: number;
  runs_list_query_ms: number;
  /** run.page as the table asks for it: the newest 100 runs, and the tag-3 page */
  runs_page_query_ms: number;
  runs_page_tag_query_ms: number;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Seeds both projects, then times each page REPS times warm after one cold load: navigation →
 * the table's rows shown (the tag page: only that tag's runs), or every chart painted.
 */
// Long because it seeds, warms and times five pages and two server queries in one place.
export async function measureTeamPages(t: TestServer, page: Page, reps: number): Promise<TeamFigures> {
  let s0 = performance.now();
  await seedTableProject(t, "big", TABLE_RUNS);
  await seedTableProject(t, "small", 10);
  await seedGroupProject(t, "grouped");
  console.error(`seeded ${TABLE_RUNS + 10} table runs and ${GROUP_RUNS} × ${GROUP_POINTS} grouped points in ${((performance.now() - s0) / 1000).toFixed(1)} s`);

  s0 = performance.now();
  await t.api.run.list.query({ projectId: "big", limit: 500 });
  const listMs = performance.now() - s0;
  s0 = performance.now();
  await t.api.run.page.query({ projectId: "big", limit: 100 });
  const pageMs = performance.now() - s0;
  s0 = performance.now();
  await t.api.run.page.query({ projectId: "big", limit: 100, tag: "tag-3" });
  const pageTagMs = performance.now() - s0;
  const groupedRuns = (await t.api.run.list.query({ projectId: "grouped" })).map((r) => r.id);
  s0 = performance.now();
  await t.api.metric.groupedSeries.query({ projectId: "grouped", runIds: groupedRuns, key: "train/loss", by: "config:grp", maxPoints: 1000 });
  const groupedQueryMs = performance.now() - s0;

  const table = async (url: string, suffix: string | null) => {
    const start = performance.now();
    await page.goto(`${t.server.url}${url}`, { waitUntil: "commit" });
    await page.waitForFunction(
      (sfx) => {
        const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="runs-table"] tbody tr[data-run]')];
        return rows.length > 0 && (sfx === null || rows.every((r) => r.dataset.run!.endsWith(sfx)));
      },
      suffix,
      { polling: "raf", timeout: 60_000 },
    );
    return performance.now() - start;
  };
  const chart = async (url: string, grouped: boolean) => {
    const start = performance.now();
    await page.goto(`${t.server.url}${url}`, { waitUntil: "commit" });
    await page.waitForFunction(
      (g) =>
        [...document.querySelectorAll<HTMLElement>("[data-chart][data-painted]")].some(
          (el) => Number(el.dataset.painted) > 0 && (!g || el.dataset.grouped === "5"),
        ),
      grouped,
      { polling: "raf", timeout: 60_000 },
    );
    return performance.now() - start;
  };
  const pages: [string, () => Promise<number>][] = [
    ["runs_table_ms", () => table("/projects/big", null)],
    ["runs_table_tag_ms", () => table("/projects/big?tag=tag-3", "-t3")],
    ["runs_table_baseline_ms", () => table("/projects/small", null)],
    ["grouped_chart_ms", () => chart("/projects/grouped/charts?by=config%3Agrp&panels=train%2Floss", true)],
    ["grouped_chart_baseline_ms", () => chart("/projects/grouped/charts?runs=" + groupedRuns.slice(0, 50).join(",") + "&panels=train%2Floss", false)],
  ];
  const times: Record<string, number[]> = {};
  for (const [name, fn] of pages) {
    const cold = await fn();
    console.error(`${name}: cold ${cold.toFixed(0)} ms`);
    times[name] = [];
  }
  // interleaved, so load from other work on the machine falls on every page alike
  for (let i = 0; i < reps; i++) for (const [name, fn] of pages) times[name]!.push(await fn());
  for (const [name] of pages) console.error(`${name}: warm ${times[name]!.map((x) => x.toFixed(0)).join("/")} ms`);
  return {
    runs_table_ms: Math.round(median(times.runs_table_ms!)),
    runs_table_tag_ms: Math.round(median(times.runs_table_tag_ms!)),
    runs_table_baseline_ms: Math.round(median(times.runs_table_baseline_ms!)),
    grouped_chart_ms: Math.round(median(times.grouped_chart_ms!)),
    grouped_chart_baseline_ms: Math.round(median(times.grouped_chart_baseline_ms!)),
    grouped_query_ms: Math.round(groupedQueryMs),
    runs_list_query_ms: Math.round(listMs),
    runs_page_query_ms: Math.round(pageMs),
    runs_page_tag_query_ms: Math.round(pageTagMs),
  };
}
