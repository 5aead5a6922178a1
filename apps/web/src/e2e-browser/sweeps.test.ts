// The sweep pages in a real browser against the real server (SQLite) and two runner daemons
// whose jobs report an epoch metric (testing/sweep-executor.ts): the trials table, the three
// plots (best so far, parallel coordinates with a log axis, importance), pause / resume /
// cancel from the header, and the "New sweep" form (client-side and server-side refusals).
import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer, waitFor } from "../testing/harness";
import { createSweepExecutor } from "../testing/sweep-executor";

const hasChromium = chromiumAvailable();

const SWEEP = {
  method: "random",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" }, batchSize: { values: [32, 64, 128] } },
  spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 6, batchSize: 32, lr: 0.01 },
  maxTrials: 8,
  parallel: 2,
  seed: 7,
  earlyTerminate: { type: "asha", minEpochs: 1, reductionFactor: 2, maxEpochs: 6 },
};

describe.skipIf(!hasChromium)("sweep pages in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const daemons: RunnerDaemon[] = [];
  let finishedId = "";
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    const built = ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "tune" });
    for (const name of ["r1", "r2"]) {
      const { token } = await t.api.runner.createToken.mutate({ name });
      const d = new RunnerDaemon({
        server: t.server.url,
        token,
        name,
        slots: 1,
        home: t.home,
        // slow enough epochs that the controller prunes before a bad trial has finished, even on a loaded CI host
        executor: createSweepExecutor({ epochMs: 200 }),
        logger: pino({ level: "warn" }),
        killGraceMs: 2000,
      });
      await d.start();
      daemons.push(d);
    }
    // a finished sweep to look at (it runs while the dashboard builds)
    finishedId = (await t.api.sweep.create.mutate({ projectId: "tune", sweep: SWEEP })).sweepId;
    await waitFor(async () => (await t.api.sweep.get.query({ sweepId: finishedId })).status === "finished", 60_000, "the seeded sweep to finish");
    await built;
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await t?.close();
  });

  it("shows a finished sweep: trials table, best-so-far curve, parallel coordinates, importance", async () => {
    const detail = await t.api.sweep.get.query({ sweepId: finishedId });
    await page.goto(`${t.server.url}/sweeps/${finishedId}`);
    await expect.poll(() => page.getByTestId("sweep-status").textContent()).toBe("finished");
    const rows = page.locator("[data-testid=trials-table] tbody tr[data-trial]");
    await expect.poll(() => rows.count()).toBe(8);
    const pruned = detail.trials.filter((x) => x.status === "pruned").length;
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid=trials-table] tr[data-status="pruned"] .status-pill').count()).toBe(pruned);
    // every trial links to its run; the best one is marked
    expect(await rows.locator('a[href^="/runs/"]').count()).toBe(8);
    expect(await page.locator(`tr.best-trial a[href="/runs/${detail.best!.runId}"]`).count()).toBe(1);
    // best so far: painted by uPlot, one dot per scored trial
    await page.waitForSelector('[data-plot="best-so-far"][data-painted="8"]');
    expect(Number(await page.locator('[data-plot="best-so-far"]').getAttribute("data-points"))).toBe(8);
    // parallel coordinates: lr on a log axis, batchSize categorical, the metric last; one line per trial
    const pc = page.locator('[data-plot="parallel-coordinates"]');
    expect(await pc.getAttribute("data-axes")).toBe("3");
    expect(await pc.getAttribute("data-lines")).toBe("8");
    expect(await pc.locator('[data-axis="lr"]').getAttribute("data-scale")).toBe("log");
    expect(await pc.locator('[data-axis="batchSize"]').getAttribute("data-scale")).toBe("category");
    expect(await pc.locator("path.pc-line").count()).toBe(8);
    // importance: one row per swept parameter
    expect(await page.locator('[data-plot="importance"]').getAttribute("data-params")).toBe("2");
    expect(await page.locator('[data-plot="importance"] tr[data-param="lr"]').count()).toBe(1);
    // a finished sweep has nothing to pause
    expect(await page.getByRole("button", { name: "Pause" }).count()).toBe(0);
    for (const scheme of ["light", "dark"] as const) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
      const p = await ctx.newPage();
      await p.goto(`${t.server.url}/sweeps/${finishedId}`);
      await p.waitForSelector('[data-plot="best-so-far"][data-painted="8"]');
      expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `sweep page overflows (${scheme})`).toBe(true);
      await saveScreenshot(p, `sweep-${scheme}`);
      await ctx.close();
    }
  });

  it("pauses, resumes and cancels a running sweep from its header (cancel asks first)", async () => {
    const slow = { ...SWEEP, method: "grid", maxTrials: undefined, earlyTerminate: undefined, parallel: 1, spec: { ...SWEEP.spec, epochs: 200 } };
    slow.parameters = { lr: { values: [0.001, 0.01] }, batchSize: { values: [32, 64] } } as never;
    const { sweepId } = await t.api.sweep.create.mutate({ projectId: "tune", sweep: slow });
    await page.goto(`${t.server.url}/sweeps/${sweepId}`);
    await expect.poll(() => page.locator("[data-testid=trials-table] tr[data-trial]").count(), { timeout: 10_000 }).toBe(1);
    const pause = page.getByRole("button", { name: "Pause" });
    expect(await pause.isEnabled()).toBe(true);
    await pause.click();
    await expect.poll(() => page.getByTestId("sweep-status").textContent()).toBe("paused");
    expect((await t.api.sweep.get.query({ sweepId })).status).toBe("paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await expect.poll(() => page.getByTestId("sweep-status").textContent()).toBe("running");
    // declining the confirmation leaves the sweep alone; accepting cancels it
    page.once("dialog", (d) => void d.dismiss());
    await page.getByRole("button", { name: "Cancel sweep" }).click();
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.api.sweep.get.query({ sweepId })).status).toBe("running");
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Cancel sweep" }).click();
    await expect.poll(() => page.getByTestId("sweep-status").textContent()).toBe("cancelled");
    await saveScreenshot(page, "sweep-cancelled");
  });

  it("lists sweeps and creates one from the form, showing client and server refusals under it", async () => {
    await page.goto(`${t.server.url}/projects/tune`);
    await page.getByRole("link", { name: "Sweeps" }).click();
    await page.waitForSelector(`[data-testid=sweeps-table] tr[data-sweep="${finishedId}"]`);
    expect(await page.locator(`tr[data-sweep="${finishedId}"]`).textContent()).toMatch(/finished.*random.*test\/accuracy.*8 \/ 8/);
    await page.getByRole("button", { name: "New sweep" }).click();
    const spec = page.locator("#sweep-spec");
    const example = JSON.parse(await spec.inputValue()) as typeof SWEEP;
    // refused in the page by the schema, naming the field
    await spec.fill(JSON.stringify({ ...example, parallel: 0 }));
    await page.getByRole("button", { name: "Create sweep" }).click();
    await expect.poll(() => page.getByTestId("sweep-errors").textContent()).toMatch(/parallel/);
    // valid for the schema, refused by the server (a trial would not be a valid job)
    await spec.fill(JSON.stringify({ ...example, parameters: { lr: { min: 1, max: 20 } } }));
    await page.getByRole("button", { name: "Create sweep" }).click();
    await expect.poll(() => page.getByTestId("sweep-errors").textContent()).toMatch(/lr/);
    // the example as given works
    await page.getByRole("button", { name: "Reset to example" }).click();
    await page.getByRole("button", { name: "Create sweep" }).click();
    await page.waitForURL(/\/sweeps\/[a-z0-9]+$/);
    const created = page.url().split("/").pop()!;
    expect((await t.api.sweep.get.query({ sweepId: created })).sweep.method).toBe("random");
    await t.api.sweep.cancel.mutate({ sweepId: created });
  });
});
