// The dashboard in a real browser (Debian chromium + playwright-core) against the real server:
// runs table filters and sorting, the compare view, submitting a job through the generated
// form and watching its chart grow live, cancelling a running job, zooming long series against
// steps and against time. Jobs run on a real runner daemon with a fast fake executor (the
// dashboard is under test here, not tfjs).
import fs from "node:fs";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { createFakeExecutor, RunnerDaemon } from "@heron/runner";
import { init } from "@heron/sdk";
import { pino } from "pino";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer, waitFor } from "../testing/harness";

const hasChromium = chromiumAvailable();

/** Seeds a finished run straight through the services (fast, no SDK round trips). */
async function seedRun(
  t: TestServer,
  project: string,
  name: string,
  opts: { config: Record<string, unknown>; tags?: string[]; group?: string; status?: "finished" | "crashed"; scale: number; steps?: number },
) {
  const s = t.server.services;
  const { run } = await s.runs.init({
    v: PROTOCOL_VERSION,
    project,
    name,
    resume: "never",
    config: opts.config,
    tags: opts.tags,
    group: opts.group,
    host: "gpu-box-1",
  });
  const n = opts.steps ?? 200;
  const points = [];
  for (let step = 0; step < n; step++) {
    points.push({ key: "train/loss", step, value: opts.scale * Math.exp(-step / 60) + 0.02, ts: Date.now() - (n - step) * 1000 });
    if (step % 20 === 19) points.push({ key: "test/accuracy", step, value: 1 - opts.scale * Math.exp(-step / 80) * 0.5, ts: Date.now() - (n - step) * 1000 });
  }
  await s.metrics.write(run.id, points);
  await s.runs.finish(run.id, opts.status ?? "finished");
  return run.id;
}

/**
 * Drag-selects a chart's plot from `from` to `to` (fractions of its width), in small moves as
 * a hand would, and waits until the zoomed answer is exact (no longer bucketed).
 */
async function dragZoom(page: Page, chart: Locator, from: number, to: number): Promise<void> {
  const box = (await chart.locator(".u-over").boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * ((from + to) / 2), y, { steps: 5 });
  await page.mouse.move(box.x + box.width * to, y, { steps: 5 });
  await page.mouse.up();
  await expect.poll(() => chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(0);
}

/** Pixels of the chart's canvas close to a colour: proof that a curve of that run was drawn. */
async function countColor(page: Page, chartKey: string, hex: string): Promise<number> {
  return page.evaluate(
    ([key, color]) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-chart="${key}"] canvas`);
      if (!canvas) return -1;
      const ctx = canvas.getContext("2d")!;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const n = parseInt(color.slice(1), 16);
      const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
      let count = 0;
      for (let i = 0; i < data.length; i += 4)
        if (Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) < 60 && data[i + 3]! > 200) count++;
      return count;
    },
    [chartKey, hex] as const,
  );
}

describe.skipIf(!hasChromium)("dashboard in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: RunnerDaemon;
  const ids: Record<string, string> = {};
  // an uncaught exception in the page fails the test that caused it
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "vision" });
    ids.a = await seedRun(t, "vision", "baseline-adam", {
      config: { lr: 0.001, optimizer: "adam", batchSize: 64 },
      tags: ["baseline"],
      group: "sweep-1",
      scale: 2,
    });
    ids.b = await seedRun(t, "vision", "sgd-high-lr", { config: { lr: 0.1, optimizer: "sgd", batchSize: 64 }, tags: ["sweep"], group: "sweep-1", scale: 1 });
    ids.c = await seedRun(t, "vision", "crashed-try", {
      config: { lr: 0.5, optimizer: "sgd", batchSize: 128 },
      tags: ["sweep"],
      status: "crashed",
      scale: 3,
      steps: 40,
    });
    const { token } = await t.api.runner.createToken.mutate({ name: "browser-e2e" });
    runner = new RunnerDaemon({
      server: t.server.url,
      token,
      name: "browser-e2e",
      slots: 1,
      home: t.home,
      executor: createFakeExecutor({ stepMs: 100 }),
      logger: pino({ level: "warn" }),
      killGraceMs: 2000,
    });
    await runner.start();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await runner?.stop();
    await t?.close();
  });

  it("filters and sorts the runs table", async () => {
    await page.goto(`${t.server.url}/projects/vision`);
    const rows = page.locator('[data-testid="runs-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const names = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")));

    await page.getByLabel("filter runs").fill("sgd");
    // searched on the server (after a 250 ms pause in typing): poll until the answer is shown
    await expect.poll(async () => (await names()).sort()).toEqual(["crashed-try", "sgd-high-lr"]);
    await page.getByLabel("status filter").selectOption("crashed");
    await expect.poll(names).toEqual(["crashed-try"]);
    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await page.getByLabel("tag filter").selectOption("baseline");
    await expect.poll(names).toEqual(["baseline-adam"]);
    await page.getByLabel("tag filter").selectOption("");
    await page.getByLabel("config filter key").selectOption("optimizer");
    await page.getByLabel("config filter value").selectOption("sgd");
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByRole("button", { name: "Clear filters" }).first().click();

    // sort by the last train/loss: ascending then descending (last values: 0.02+1·e^-199/60, 2·…, 3·e^-39/60)
    await page.getByRole("button", { name: /^train\/loss \(last\)/ }).click();
    await expect.poll(names).toEqual(["sgd-high-lr", "baseline-adam", "crashed-try"]);
    await page.getByRole("button", { name: /^train\/loss \(last\)/ }).click();
    await expect.poll(names).toEqual(["crashed-try", "baseline-adam", "sgd-high-lr"]);
    // a pinned run stays on top whatever the order
    await page.getByLabel("pin sgd-high-lr").click();
    await expect.poll(names).toEqual(["sgd-high-lr", "crashed-try", "baseline-adam"]);
    // the column chooser removes and adds columns
    const headers = () => page.locator('[data-testid="runs-table"] thead th').allInnerTexts();
    expect((await headers()).some((h) => h.startsWith("batchSize"))).toBe(true);
    await page.locator("details.chooser summary").click();
    await page.getByRole("checkbox", { name: "config batchSize" }).uncheck();
    await page.getByRole("checkbox", { name: "train/loss (min)" }).check();
    await page.locator("details.chooser summary").click();
    await expect.poll(async () => (await headers()).some((h) => h.startsWith("batchSize"))).toBe(false);
    expect((await headers()).some((h) => h.startsWith("train/loss (min)"))).toBe(true);
    await saveScreenshot(page, "runs-table-1280");
    // CSV export: what the table shows, one line per visible run
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    const csv = fs
      .readFileSync(await download.path(), "utf8")
      .trim()
      .split(/\r\n/);
    expect(csv[0]).toContain("train/loss (min)");
    expect(csv).toHaveLength(4);
    expect(csv[1]).toContain("sgd-high-lr");
  });

  it("compares two runs: both curves and the config diff", async () => {
    await page.goto(`${t.server.url}/projects/vision`);
    await page.getByLabel("select baseline-adam").check();
    await page.getByLabel("select sgd-high-lr").check();
    await page.getByTestId("compare-link").click();
    await page.waitForURL(/\/compare\?runs=/);
    await page.waitForSelector('[data-chart="train/loss"][data-painted]');
    await page.waitForSelector('[data-chart="test/accuracy"][data-painted]');
    // both runs' colours (first: blue, second: orange) are on the canvas
    expect(await countColor(page, "train/loss", "#2563eb")).toBeGreaterThan(50);
    expect(await countColor(page, "train/loss", "#e4572e")).toBeGreaterThan(50);
    const legend = await page.getByTestId("compare-legend").innerText();
    expect(legend).toContain("baseline-adam");
    expect(legend).toContain("sgd-high-lr");
    // differing config values are highlighted, equal ones are not
    await expect.poll(() => page.locator('[data-testid="config-diff"] tr[data-key="lr"]').getAttribute("data-differs")).toBe("1");
    expect(await page.locator('[data-testid="config-diff"] tr[data-key="optimizer"]').getAttribute("data-differs")).toBe("1");
    expect(await page.locator('[data-testid="config-diff"] tr[data-key="batchSize"]').getAttribute("data-differs")).toBe("0");
    await saveScreenshot(page, "compare-1280");
  });

  it("submits a job through the form and watches its chart grow live", async () => {
    await page.goto(`${t.server.url}/jobs`);
    await page.locator("#job-project").fill("vision");
    // bad input is refused inline, naming the field, and nothing is submitted
    await page.locator("#spec-lr").fill("-1");
    await page.locator("#spec-epochs").fill("many");
    await page.getByRole("button", { name: "Submit job" }).click();
    await expect.poll(() => page.locator("#spec-lr-err").innerText()).toMatch(/lr must be > 0/);
    expect(await page.locator("#spec-epochs-err").innerText()).toMatch(/epochs/);
    expect(await t.api.job.list.query({})).toHaveLength(0);
    await saveScreenshot(page, "jobs-form-errors-1280");

    await page.locator("#spec-lr").fill("0.001");
    await page.locator("#spec-epochs").fill("4"); // 80 fake steps at 100 ms
    await page.getByRole("button", { name: "Submit job" }).click();
    const job = await waitFor(async () => (await t.api.job.list.query({}))[0], 10_000, "the submitted job");
    expect(job.spec).toMatchObject({ kind: "train", lr: 0.001, epochs: 4, dataset: "mnist" });
    const run = await waitFor(async () => (await t.api.job.get.query({ jobId: job.id })).runId, 15_000, "the job to start");
    await page.goto(`${t.server.url}/runs/${run}`);
    const chart = page.locator('[data-chart="train/loss"]');
    await page.locator('[data-chart="train/loss"][data-painted]').waitFor();
    const first = Number(await chart.getAttribute("data-points"));
    await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 10_000 }).toBeGreaterThan(first + 5);
    await saveScreenshot(page, "run-live-1280");
    await expect.poll(() => page.getByTestId("run-status").innerText(), { timeout: 20_000 }).toBe("finished");
    // every point is there once the run is over (a stored re-read follows the end of the run)
    await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 5000 }).toBe(80);
    // the job's stdout is on the Logs tab, searchable
    await page.getByRole("tab", { name: "Logs" }).click();
    await page.getByLabel("search logs").fill("80 steps");
    await expect.poll(() => page.getByTestId("logs").innerText()).toContain(`[fake] job ${job.id}: 80 steps`);
    await page.getByLabel("search logs").fill("no such line");
    await expect.poll(() => page.getByText("No line matches this search.").count()).toBe(1);
  });

  it("cancels a running job from the jobs page", async () => {
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "vision",
      spec: { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 500, batchSize: 64, lr: 0.001 },
    });
    await waitFor(async () => (await t.api.job.get.query({ jobId })).status === "running", 15_000, "the job to run");
    await page.goto(`${t.server.url}/jobs`);
    const row = page.locator(`tr[data-job="${jobId}"]`);
    await expect.poll(() => row.getByTestId("job-status").innerText()).toBe("running");
    // cancel asks first: declining leaves the job running
    page.once("dialog", (d) => void d.dismiss());
    await row.getByRole("button", { name: "Cancel" }).click();
    expect((await t.api.job.get.query({ jobId })).cancelRequested).toBe(false);
    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => row.getByTestId("job-status").innerText(), { timeout: 15_000 }).toBe("cancelled");
    const job = await t.api.job.get.query({ jobId });
    expect(job.status).toBe("cancelled");
    const run = await t.api.run.get.query({ runId: job.runId! });
    expect(run.status).toBe("aborted");
    expect(await row.getByRole("button", { name: "Retry" }).isVisible()).toBe(true);
    // the run's Job tab tells the story: attempts, runner, events
    await page.goto(`${t.server.url}/runs/${job.runId}`);
    await expect.poll(() => page.getByTestId("run-status-reason").innerText()).toMatch(/^aborted: its job was cancelled by /);
    await page.getByRole("tab", { name: "Job" }).click();
    await expect.poll(() => page.getByTestId("job-status").innerText()).toBe("cancelled");
    const story = await page.locator(".tabpanel").innerText();
    expect(story).toContain("browser-e2e");
    expect(story).toMatch(/cancel-requested/);
  });

  it("zooms into a long series by re-querying finer data, with hover values", async () => {
    const runId = await seedRun(t, "vision", "long-run", { config: { lr: 0.01 }, scale: 1, steps: 20_000 });
    await page.goto(`${t.server.url}/runs/${runId}`);
    const chart = page.locator('[data-chart="train/loss"]');
    await page.locator('[data-chart="train/loss"][data-painted]').waitFor();
    expect(await chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(1);
    const over = chart.locator(".u-over");
    // the summary panel sits above the charts: bring the chart into the viewport to hover it
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    // hover: the legend shows the step and the value under the cursor
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => chart.locator(".chart-legend").innerText()).toMatch(/step \d+[\s\S]*long-run\s+[\d.e-]+/);
    // drag across ~2% of the width: ~400 steps, few enough for exact points
    await dragZoom(page, chart, 0.5, 0.52);
    const zoomedPoints = Number(await chart.getAttribute("data-painted"));
    expect(zoomedPoints).toBeGreaterThan(100);
    expect(zoomedPoints).toBeLessThan(1000);
    await saveScreenshot(page, "run-zoomed-1280");
    // smoothing draws a second, smoothed line over the faint raw one; log scale keeps painting
    const before = Number(await chart.getAttribute("data-painted"));
    await page.getByLabel("EMA smoothing").fill("0.9");
    await expect.poll(() => page.locator("output").first().innerText()).toBe("0.90");
    await page.getByLabel("Log scale").check();
    await page.locator('[data-chart="train/loss"][data-painted]').waitFor();
    expect(Number(await chart.getAttribute("data-painted"))).toBe(before);
    await saveScreenshot(page, "run-smoothed-log-1280");
    await page.getByLabel("Log scale").uncheck();
    await page.getByLabel("EMA smoothing").fill("0");
    await chart.getByRole("button", { name: "Reset zoom" }).click();
    await expect.poll(() => chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(1);
  });

  it("draws a bucketed series against relative time, and a time zoom re-queries finer data", async () => {
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "vision", name: "timed-run", resume: "never", config: { lr: 0.01 }, host: "gpu-box-1" });
    const t0 = new Date(run.createdAt).getTime();
    const n = 20_000;
    // 100 ms a step and a 10-minute pause halfway (an evaluation): time is not steps rescaled
    const tsOf = (step: number) => t0 + step * 100 + (step >= n / 2 ? 600_000 : 0);
    await s.metrics.write(
      run.id,
      Array.from({ length: n }, (_, step) => ({ key: "train/loss", step, value: Math.exp(-step / 5000) + 0.1 * Math.sin(step / 7), ts: tsOf(step) })),
    );
    await s.runs.finish(run.id, "finished");
    await page.goto(`${t.server.url}/runs/${run.id}`);
    const chart = page.locator('[data-chart="train/loss"]');
    const painted = page.locator('[data-chart="train/loss"][data-painted]');
    await painted.waitFor();
    const x = async () => ({
      first: Number(await chart.getAttribute("data-x-first")),
      last: Number(await chart.getAttribute("data-x-last")),
      n: Number(await chart.getAttribute("data-painted")),
    });
    expect((await x()).last).toBe(n - 1); // steps
    await page.getByLabel("x axis").selectOption("relative");
    // still bucketed, now against seconds since the run started: the last bucket's time is its last point's
    await expect.poll(async () => (await x()).last).toBeCloseTo((tsOf(n - 1) - t0) / 1000, 3);
    await painted.waitFor();
    const before = await x();
    expect(await chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(1);
    expect(await chart.locator(".badge", { hasText: "step axis" }).count()).toBe(0);
    expect(before.n).toBeGreaterThan(100);
    await saveScreenshot(page, "run-time-bucketed-1280");
    const over = chart.locator(".u-over");
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await expect.poll(() => chart.locator(".chart-legend").innerText()).toMatch(/^[\d.,]+ s/);
    // drag across 2% of the width: ~52 s of the first half, ~520 steps — few enough for exact points
    await dragZoom(page, chart, 0.3, 0.32);
    await painted.waitFor();
    const after = await x();
    // the window is a time window (~780–832 s; as steps it would be ~78–83 s) ...
    expect(after.first).toBeGreaterThan(0.25 * before.last);
    expect(after.last).toBeLessThan(0.4 * before.last);
    // ... drawn from finer data: far more points per second than the buckets had
    expect(after.n / (after.last - after.first)).toBeGreaterThan((10 * before.n) / (before.last - before.first));
    await saveScreenshot(page, "run-time-zoomed-1280");
    await chart.getByRole("button", { name: "Reset zoom" }).click();
    await expect.poll(() => chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(1);
    await page.getByLabel("x axis").selectOption("step");
  });

  it("compare view: a time zoom re-queries each run over its own steps for the same seconds", async () => {
    const s = t.server.services;
    const n = 20_000;
    const ids: string[] = [];
    // the fast run does a step every 50 ms, the slow one every 100 ms: the same seconds are
    // different steps in each, so one step range for both would be wrong for one of them
    for (const [name, msPerStep] of [
      ["timed-fast", 50],
      ["timed-slow", 100],
    ] as const) {
      const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "vision", name, resume: "never", config: { msPerStep }, host: "gpu-box-1" });
      const t0 = new Date(run.createdAt).getTime();
      await s.metrics.write(
        run.id,
        Array.from({ length: n }, (_, step) => ({
          key: "train/loss",
          step,
          value: Math.exp(-step / 5000) + 0.1 * Math.sin(step / 7),
          ts: t0 + step * msPerStep,
        })),
      );
      await s.runs.finish(run.id, "finished");
      ids.push(run.id);
    }
    await page.goto(`${t.server.url}/compare?runs=${ids.join(",")}`);
    const chart = page.locator('[data-chart="train/loss"]');
    const painted = page.locator('[data-chart="train/loss"][data-painted]');
    await painted.waitFor();
    await page.getByLabel("x axis").selectOption("relative");
    // the slow run lasts ~2,000 s, the fast one ~1,000 s: the time axis spans the slow one
    await expect.poll(async () => Number(await chart.getAttribute("data-x-last"))).toBeCloseTo(((n - 1) * 100) / 1000, 1);
    await painted.waitFor();
    expect(await chart.locator(".badge", { hasText: "bucketed" }).count()).toBe(1);
    // drag over ~2 % of the width around 30 % (≈ 600–640 s): 6,000–6,400 steps of the slow run,
    // 12,000–12,800 of the fast one — few enough points for both to come back exact
    await dragZoom(page, chart, 0.3, 0.32);
    await painted.waitFor();
    const first = Number(await chart.getAttribute("data-x-first"));
    const last = Number(await chart.getAttribute("data-x-last"));
    expect(first).toBeGreaterThan(500);
    expect(last).toBeLessThan(750);
    // both runs are drawn in the window (each from its own step range)
    expect(await countColor(page, "train/loss", "#2563eb")).toBeGreaterThan(30);
    expect(await countColor(page, "train/loss", "#e4572e")).toBeGreaterThan(30);
    // plain runs, no distillation group: no distillation table
    expect(await page.getByTestId("distill-table").count()).toBe(0);
    await saveScreenshot(page, "compare-time-zoomed-1280");
    await page.getByLabel("x axis").selectOption("step");
  });

  it("compare view of a distillation group ends with seed 003's table: teacher, then one row per method", async () => {
    const s = t.server.services;
    const ids: string[] = [];
    const teacher = { runId: "teacher-run", model: "deep-cnn" };
    for (const [method, acc] of [
      ["ce", 0.71],
      ["kd", 0.73],
    ] as const) {
      const config = { kind: "distill", teacher, student: "light-cnn", methods: [method], T: 2, dataset: "fashion-mnist" };
      const { run } = await s.runs.init({
        v: PROTOCOL_VERSION,
        project: "vision",
        name: `distill-${method}`,
        resume: "never",
        config,
        group: "distill-demo",
        host: "gpu-box-1",
      });
      await s.metrics.write(run.id, [
        { key: "test/accuracy", step: 10, value: acc, ts: Date.now() },
        { key: "distill/teacher_accuracy", step: 10, value: 0.78, ts: Date.now() },
        { key: "distill/teacher_params", step: 10, value: 1_186_986, ts: Date.now() },
        { key: "distill/student_params", step: 10, value: 267_738, ts: Date.now() },
        { key: "distill/trainable_params", step: 10, value: 267_738, ts: Date.now() },
      ]);
      await s.runs.finish(run.id, "finished");
      ids.push(run.id);
    }
    await page.goto(`${t.server.url}/compare?runs=${ids.join(",")}`);
    const table = page.getByTestId("distill-table");
    await table.waitFor();
    const rows = await table.locator("tbody tr").allInnerTexts();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/teacher\s+—\s+deep-cnn\s+78\.00%\s+1,186,986/);
    expect(rows[1]).toMatch(/distill-ce\s+ce\s+light-cnn\s+71\.00%\s+267,738/);
    expect(rows[2]).toMatch(/distill-kd\s+kd\s+light-cnn\s+73\.00%\s+267,738/);
    await saveScreenshot(page, "compare-distill-1280");
  });

  it("shows a run's text samples per step and its images, logged through the SDK", async () => {
    const run = await init({ host: t.server.url, apiKey: t.key, project: "vision", name: "media-run", dir: path.join(t.home, "sdk-media") });
    run.log({ "train/loss": 1 }, { step: 1 });
    run.logText(
      "samples/pred",
      [
        { text: "2 + 2 = 4", caption: "q1" },
        { text: "3 + 3 = 7", caption: "q2" },
      ],
      { step: 1 },
    );
    run.logText("samples/pred", [{ text: "3 + 3 = 6", caption: "q2" }], { step: 2 });
    const pixels = Uint8Array.from({ length: 8 * 8 }, (_, i) => ((i % 8) + Math.floor(i / 8)) * 16);
    run.logImage("samples/digit", { data: pixels, width: 8, height: 8, channels: 1 }, { step: 2, caption: "a gradient" });
    await run.finish();
    await page.goto(`${t.server.url}/runs/${run.id}`);
    // tabs are keyboard reachable: arrow keys move between them
    await page.getByRole("tab", { name: "Charts" }).focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => page.getByRole("tab", { name: "Config" }).getAttribute("aria-selected")).toBe("true");
    await page.getByRole("tab", { name: "Text" }).click();
    const text = page.locator('[data-text-key="samples/pred"]');
    await expect.poll(() => text.locator("tbody").innerText()).toContain("3 + 3 = 6"); // latest step first
    await text.getByLabel("samples/pred step").selectOption("1");
    await expect.poll(() => text.locator("tbody").innerText()).toContain("2 + 2 = 4");
    await page.getByRole("tab", { name: "Images" }).click();
    const img = page.getByRole("img", { name: "a gradient" });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(8);
    await saveScreenshot(page, "run-images-1280");
    // memory: the planner's estimate beside the measured peak
    await t.server.services.runs.mergeSummary(run.id, { planned_bytes: 4 * 2 ** 20, measured_peak_bytes: 3 * 2 ** 20 });
    await page.reload();
    await page.getByRole("tab", { name: "Memory" }).click();
    await expect.poll(() => page.getByTestId("memory-ratio").innerText()).toMatch(/75%.*3\.0 MiB of 4\.0 MiB/);
  });

  it("looks right at 1280×800 and 1920×1080, light and dark", async () => {
    for (const scheme of ["light", "dark"] as const) {
      for (const [w, h] of [
        [1280, 800],
        [1920, 1080],
      ] as const) {
        const ctx = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme });
        const p = await ctx.newPage();
        for (const [name, url] of [
          ["project", "/projects/vision"],
          ["run", `/runs/${ids.a}`],
          ["compare", `/compare?runs=${ids.a},${ids.b},${ids.c}`],
          ["jobs", "/jobs"],
          ["runners", "/runners"],
        ] as const) {
          await p.goto(`${t.server.url}${url}`);
          if (name === "run" || name === "compare") await p.waitForSelector('[data-chart="train/loss"][data-painted]');
          else await p.waitForSelector("table");
          // no horizontal overflow of the page itself (wide tables scroll inside their box)
          expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${name} ${w}x${h} ${scheme} overflows`).toBe(true);
          await saveScreenshot(p, `${name}-${w}x${h}-${scheme}`);
        }
        await ctx.close();
      }
    }
  });
});
