// The job form in a real browser: the distillation teacher comes from a picker listing the
// project's finished job runs (with search), fields start at their defaults, an unknown teacher
// is named as such (never "create the project first"), and a submitted job is named in the
// success message.
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

describe.skipIf(!chromiumAvailable())("job forms in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let teacherId = "";

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const s = t.server.services;
    // finished runs of jobs are teacher candidates; a script's run (no job) and a running one are not
    for (const [name, status, job] of [
      ["teacher-cnn", "finished", "job-a"],
      ["teacher-mlp", "finished", "job-b"],
      ["script-run", "finished", null],
      ["still-training", "running", "job-c"],
    ] as const) {
      const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "forms", name, resume: "never" });
      if (status === "finished") await s.runs.finish(run.id, "finished");
      if (job) await s.prisma.run.update({ where: { id: run.id }, data: { jobId: job } });
      if (name === "teacher-cnn") teacherId = run.id;
    }
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("picks a teacher among the project's finished job runs, with search", async () => {
    await page.goto(`${t.server.url}/jobs`);
    await page.locator("#job-project").fill("forms");
    await page.locator("#spec-kind").selectOption("distill");
    const picker = page.getByLabel("teacher run", { exact: true });
    await expect.poll(() => picker.locator("option").allTextContents()).toHaveLength(3);
    const names = (await picker.locator("option").allTextContents()).slice(1).map((o) => o.split(" · ")[0]);
    expect(names.sort()).toEqual(["teacher-cnn", "teacher-mlp"]);
    await page.getByLabel("search teacher runs").fill("cnn");
    await expect.poll(() => picker.locator("option").count()).toBe(2);
    await picker.selectOption(teacherId);
    expect(JSON.parse(await page.locator("#spec-teacher").inputValue())).toEqual({ runId: teacherId });
    await saveScreenshot(page, "distill-teacher-picker");
  });

  it("names an unknown teacher run instead of asking to create the project, and names the job it queued", async () => {
    await page.goto(`${t.server.url}/jobs`);
    await page.locator("#job-project").fill("forms");
    await page.locator("#spec-kind").selectOption("distill");
    await page.locator("#spec-teacher").fill('{"runId": "no-such-run"}');
    await page.getByRole("button", { name: "Submit job" }).click();
    const err = page.getByTestId("submit-error");
    await expect.poll(() => err.textContent(), { timeout: 20_000 }).toMatch(/teacher: run "no-such-run" not found/);
    expect(await err.textContent()).not.toMatch(/create the project/);

    // a plain training job: its fields start at their defaults and its id is in the message
    await page.locator("#spec-kind").selectOption("train");
    await page.getByRole("button", { name: "Submit job" }).click();
    const ok = page.locator("p.ok[role=status]");
    await expect
      .poll(async () => ((await ok.count()) ? ok.textContent() : page.getByTestId("submit-error").textContent()), { timeout: 20_000 })
      .toMatch(/Job queued in forms/);
    const [job] = await t.api.job.list.query({ projectId: "forms" });
    expect(await ok.textContent()).toContain(job!.id);
  });
});
