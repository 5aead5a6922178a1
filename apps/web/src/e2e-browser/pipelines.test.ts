// A pipeline in a real browser: the jobs table shows it as one row with its stage progress,
// and its job page lists the stages (status, the running stage's progress, links to each
// stage's job and run). No runner: the first stage's state is written as a runner would leave it.
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

const hasChromium = chromiumAvailable();
const TRAIN = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 3, batchSize: 32, lr: 0.01 };

describe.skipIf(!hasChromium)("pipelines in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let jobIds: string[] = [];
  let runId = "";
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "pipe-ui" });
    const spec = {
      kind: "pipeline",
      name: "ui",
      stages: [
        { name: "encoder", spec: TRAIN },
        { name: "head", spec: { ...TRAIN, freeze: ["layer1.**"] }, init: { fromStage: "encoder" } },
      ],
    };
    ({ jobIds } = await t.api.job.submit.mutate({ projectId: "pipe-ui", spec }));
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "pipe-ui", name: "encoder-run", resume: "never" });
    runId = run.id;
    await s.prisma.run.update({ where: { id: run.id }, data: { jobId: jobIds[1]! } });
    await s.prisma.job.update({ where: { id: jobIds[1]! }, data: { status: "running", runId: run.id, startedAt: new Date(), attempts: 1 } });
    await s.prisma.job.update({ where: { id: jobIds[0]! }, data: { status: "running", startedAt: new Date() } });
    await s.runs.appendLogs(run.id, [{ stream: "stdout", line: "[progress] epoch 1/3 step 120/600 350 samples/s ETA 250s" }]);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows the pipeline once in the jobs table with its stage progress", async () => {
    await page.goto(`${t.server.url}/jobs`);
    const row = page.locator(`tr[data-job="${jobIds[0]}"]`);
    await expect.poll(() => row.getByTestId("pipeline-progress").innerText()).toMatch(/0\/2 stages · encoder running · step 120\/600/);
    expect(await page.locator(`tr[data-job="${jobIds[1]}"]`).count()).toBe(0);
    await saveScreenshot(page, "pipeline-jobs");
  });

  it("lists the stages on the pipeline's job page, with links to their jobs and runs", async () => {
    await page.goto(`${t.server.url}/jobs/${jobIds[0]}`);
    const stages = page.getByTestId("pipeline-stages");
    await expect.poll(() => stages.locator("tbody tr").count()).toBe(2);
    const [enc, head] = [stages.locator('tr[data-stage="encoder"]'), stages.locator('tr[data-stage="head"]')];
    expect(await enc.getByTestId("stage-status").innerText()).toBe("running");
    expect(await enc.innerText()).toMatch(/step 120\/600/);
    expect(await head.getByTestId("stage-status").innerText()).toBe("waiting");
    expect(await enc.getByRole("link", { name: "open run" }).getAttribute("href")).toBe(`/runs/${runId}`);
    await saveScreenshot(page, "pipeline-job-page");
    await head.getByRole("link", { name: jobIds[2]!.slice(-8) }).click();
    await expect.poll(() => page.getByTestId("job-summary").innerText()).toMatch(/stage head of pipeline/);
  });
});
