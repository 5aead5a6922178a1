// `npm run bench -- dashboard`: the dashboard in a real browser (Debian chromium), timed from
// navigation to every chart painted with its data:
//   run page   — one run with 20 keys × 100,000 points (2,000,000 points)
//   compare    — 10 runs × 100,000 points of one key, overlaid
//   runs table — 10,000 runs (20 config keys, 5 metrics each), plain and filtered by tag, beside
//                a 10-run project; grouped chart — 100 runs × 10,000 points in 5 groups, beside
//                the same runs ungrouped (bench/helpers/dashboard-teams.ts; BENCH_TEAM=0 skips)
// Data is seeded straight into the metrics store. Each page is loaded once cold (first visit:
// Next compiles nothing at run time, but the browser fetches and parses the bundles), then
// timed REPS times warm; the median warm load is the figure, the cold one is reported beside
// it, and so is the server's share (the same series queries timed from Node).
import os from "node:os";
import { performance } from "node:perf_hooks";

import { type MetricPoint, PROTOCOL_VERSION } from "@heron/core";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser } from "../apps/web/src/testing/browser";
import { startTestServer, type TestServer } from "../apps/web/src/testing/harness";
import { measureTeamPages } from "./helpers/dashboard-teams";

const KEYS = 20;
const POINTS = 100_000;
const COMPARE_RUNS = 10;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const PREFIXES = ["train", "test", "val", "opt"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function seed(t: TestServer, name: string, keys: string[], phase: number): Promise<string> {
  const s = t.server.services;
  const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "bench", name, resume: "never", config: { lr: 0.001 * (phase + 1), phase } });
  const t0 = Date.now() - POINTS * 100;
  for (const key of keys) {
    const points: MetricPoint[] = new Array(POINTS);
    for (let step = 0; step < POINTS; step++) {
      // a decaying curve with noise and rare spikes (the min/max band must keep them)
      const noise = Math.sin(step * 12.9898 + phase) * 0.05;
      const spike = step % 9973 === 0 ? 1.5 : 0;
      points[step] = { key, step, value: 2 * Math.exp(-step / (20_000 + phase * 3000)) + noise + spike, ts: t0 + step * 100 };
    }
    await s.metrics.write(run.id, points);
  }
  await s.runs.finish(run.id, "finished");
  return run.id;
}

async function main() {
  if (!chromiumAvailable()) {
    console.log(JSON.stringify({ bench: "dashboard", skipped: "chromium not installed (apt-get install -y chromium)" }));
    return;
  }
  await ensureDashboardBuilt();
  const t = await startTestServer("sqlite", { dashboard: true });
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `${PREFIXES[i % PREFIXES.length]}/metric_${String(i).padStart(2, "0")}`);
    let s0 = performance.now();
    const runId = await seed(t, "big-run", keys, 0);
    const compareIds: string[] = [];
    for (let i = 0; i < COMPARE_RUNS; i++) compareIds.push(await seed(t, `cmp-${i}`, ["train/loss"], i));
    const seedS = (performance.now() - s0) / 1000;
    console.error(`seeded ${(KEYS + COMPARE_RUNS) * POINTS} points in ${seedS.toFixed(1)} s`);

    // server share: the same queries the pages send, from Node (one batched request each)
    s0 = performance.now();
    await Promise.all(keys.map((key) => t.api.metric.series.query({ runId, key, maxPoints: 1000 })));
    const runQueryMs = performance.now() - s0;
    s0 = performance.now();
    await t.api.metric.compare.query({ runIds: compareIds, key: "train/loss", maxPoints: 1000 });
    const compareQueryMs = performance.now() - s0;

    const browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    const time = async (url: string, charts: number) => {
      const start = performance.now();
      await page.goto(`${t.server.url}${url}`, { waitUntil: "commit" });
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll("[data-chart][data-painted]").length >= n &&
          !document.querySelector("[data-chart][data-loading]") &&
          [...document.querySelectorAll<HTMLElement>("[data-chart][data-painted]")].every((el) => Number(el.dataset.painted) > 0),
        charts,
        { polling: "raf", timeout: 60_000 },
      );
      return performance.now() - start;
    };
    const runUrl = `/runs/${runId}`;
    const cmpUrl = `/compare?runs=${compareIds.join(",")}`;
    const runCold = await time(runUrl, KEYS);
    const cmpCold = await time(cmpUrl, 1);
    const runMs: number[] = [];
    const cmpMs: number[] = [];
    for (let i = 0; i < REPS; i++) {
      runMs.push(await time(runUrl, KEYS));
      cmpMs.push(await time(cmpUrl, 1));
    }
    const painted = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>("[data-chart][data-painted]")].map((el) => Number(el.dataset.painted)),
    );
    const team = process.env.BENCH_TEAM === "0" ? null : await measureTeamPages(t, page, REPS);
    await browser.close();
    console.error(
      `run page (${KEYS} charts): cold ${runCold.toFixed(0)} ms, warm ${runMs.map((x) => x.toFixed(0)).join("/")} ms; server queries ${runQueryMs.toFixed(0)} ms`,
    );
    console.error(
      `compare (${COMPARE_RUNS} runs): cold ${cmpCold.toFixed(0)} ms, warm ${cmpMs.map((x) => x.toFixed(0)).join("/")} ms; server query ${compareQueryMs.toFixed(0)} ms; points drawn per run ≈ ${painted[0] ?? 0}`,
    );
    console.log(
      JSON.stringify({
        bench: "dashboard",
        run_page_ms: Math.round(median(runMs)),
        compare_page_ms: Math.round(median(cmpMs)),
        run_page_cold_ms: Math.round(runCold),
        compare_page_cold_ms: Math.round(cmpCold),
        run_series_query_ms: Math.round(runQueryMs),
        compare_query_ms: Math.round(compareQueryMs),
        points: (KEYS + COMPARE_RUNS) * POINTS,
        ...(team ?? {}),
        load_avg: os.loadavg().map((x) => Math.round(x * 10) / 10),
      }),
    );
  } finally {
    await t.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
