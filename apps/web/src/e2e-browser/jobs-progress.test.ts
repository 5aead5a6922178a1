// Jobs in a real browser: progress and ETA (from the job's `[progress]` log lines) in the jobs
// table and the run header, model/dataset columns, the run's end explained, HTTP 404 for a
// missing run or project, the Memory tab's percentage, and the per-run CSV download in local mode.
import fs from "node:fs";

import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

const hasChromium = chromiumAvailable();

describe.skipIf(!hasChromium)("jobs progress and run pages in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const ids = { jobId: "", runId: "" };
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "jobs-ui" });
    // a job a runner is training (no runner here: its state is written as a runner would leave it)
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "jobs-ui",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 3, batchSize: 32, lr: 0.01 },
    });
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "jobs-ui", name: "training", resume: "never" });
    await s.prisma.run.update({ where: { id: run.id }, data: { jobId, summary: { planned_bytes: 2_000_000_000, measured_peak_bytes: 1_500_000_000 } } });
    await s.prisma.job.update({ where: { id: jobId }, data: { status: "running", runId: run.id, startedAt: new Date(), attempts: 1 } });
    await s.runs.appendLogs(run.id, [
      { stream: "stdout", line: "[progress] epoch 1/3 step 60/600 300 samples/s ETA 400s" },
      { stream: "stdout", line: "[progress] epoch 1/3 step 120/600 350 samples/s ETA 250s" },
    ]);
    const ts = Date.now() - 60_000;
    await s.metrics.write(run.id, [
      ...Array.from({ length: 20 }, (_, i) => ({ key: "train/loss", step: i, value: 1 / (i + 1), ts: ts + i * 1000 })),
      ...Array.from({ length: 20 }, (_, i) => ({ key: "sys/h/mem_pct", step: i, value: 11, ts: ts + i * 1000 })),
      ...Array.from({ length: 20 }, (_, i) => ({ key: "sys/h/proc_rss_bytes", step: i, value: 2.6e9 + i * 1e7, ts: ts + i * 1000 })),
    ]);
    Object.assign(ids, { jobId, runId: run.id });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows progress, ETA, model and dataset in the jobs table and the run header", async () => {
    await page.goto(`${t.server.url}/jobs`);
    const row = page.locator(`tr[data-job="${ids.jobId}"]`);
    await expect.poll(() => row.getByTestId("job-progress").innerText()).toMatch(/120\/600 · epoch 1\/3 · ETA 4m 10s/);
    expect(await row.innerText()).toMatch(/mlp-mnist\s+synthetic/);
    await saveScreenshot(page, "jobs-progress");

    await page.goto(`${t.server.url}/runs/${ids.runId}`);
    await expect.poll(() => page.getByTestId("run-progress").innerText()).toBe("step 120/600 · epoch 1/3 · 20% · ETA 4m 10s");
  });

  it("downloads the run's CSV in local mode (the key in a header, not the URL)", async () => {
    await page.goto(`${t.server.url}/runs/${ids.runId}`);
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("run-csv").click()]);
    const csv = fs.readFileSync((await download.path())!, "utf8");
    expect(csv.split("\n")[0]).toMatch(/key/);
    expect(csv).toContain("train/loss");
    expect(download.suggestedFilename()).toBe("training-metrics.csv");
    expect(requests.filter((u) => u.includes("metrics.csv")).every((u) => !/key=|hk_/.test(u))).toBe(true);
  });

  it("formats the Memory tab's percentage and bytes", async () => {
    await page.goto(`${t.server.url}/runs/${ids.runId}`);
    await page.getByRole("tab", { name: "Memory" }).click();
    const panel = page.locator(".tabpanel");
    await expect.poll(() => panel.innerText()).toMatch(/sys\/h\/mem_pct\s+11%/);
    expect(await panel.innerText()).toMatch(/GiB/);
    expect(await panel.innerText()).not.toMatch(/11 B/);
  });

  it("explains an aborted run and answers 404 for a missing run or project", async () => {
    await t.api.job.cancel.mutate({ jobId: ids.jobId });
    const s = t.server.services;
    await s.prisma.job.update({ where: { id: ids.jobId }, data: { status: "cancelled", finishedAt: new Date() } });
    await s.runs.finish(ids.runId, "aborted");
    await page.goto(`${t.server.url}/runs/${ids.runId}`);
    await expect.poll(() => page.getByTestId("run-status-reason").innerText()).toMatch(/^aborted: its job was cancelled by \S+/);
    await saveScreenshot(page, "jobs-run-aborted");

    for (const path of ["/runs/no-such-run", "/projects/no-such-project"]) {
      const res = await page.goto(`${t.server.url}${path}`);
      expect(res?.status(), path).toBe(404);
      await page.getByTestId("not-found").waitFor();
    }
    expect((await page.goto(`${t.server.url}/projects/jobs-ui`))?.status()).toBe(200);
    expect((await page.goto(`${t.server.url}/runs/${ids.runId}`))?.status()).toBe(200);
  });
});
