// The project charts page in a real browser: runs grouped by a config value drawn as each
// group's mean with a band (uPlot bands, folded on the server), parallel coordinates of the runs'
// config → a metric, a panel of several keys against another metric, fullscreen and downloads,
// the runs table folding groups, and a saved view with chart settings reopened in a new context.
import fs from "node:fs";

import { type MetricPoint, PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

describe.skipIf(!chromiumAvailable())("project charts in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  const ids: string[] = [];

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const s = t.server.services;
    // 6 runs: lr 0.1 (3 runs, tag "fast") and 0.01 (3 runs, tag "slow"); loss per step, the epoch, one final accuracy
    for (let i = 0; i < 6; i++) {
      const lr = i < 3 ? 0.1 : 0.01;
      const { run } = await s.runs.init({
        v: PROTOCOL_VERSION,
        project: "plots",
        name: `run-${i}`,
        resume: "never",
        config: { opt: { lr }, seed: i, model: i % 2 ? "mlp" : "cnn" },
        tags: [lr === 0.1 ? "fast" : "slow"],
      });
      const pts: MetricPoint[] = [];
      for (let step = 0; step < 200; step++) {
        pts.push({ key: "train/loss", step, value: (lr === 0.1 ? 1 : 2) * Math.exp(-step / 50) + i * 0.01, ts: 1_700_000_000_000 + step * 1000 });
        pts.push({ key: "val/loss", step, value: 1.5 * Math.exp(-step / 60) + i * 0.02, ts: 1_700_000_000_000 + step * 1000 });
        pts.push({ key: "train/epoch", step, value: step / 20, ts: 1_700_000_000_000 + step * 1000 });
      }
      pts.push({ key: "test/accuracy", step: 199, value: 0.8 + i * 0.02, ts: 1_700_000_200_000 });
      await s.metrics.write(run.id, pts);
      await s.runs.finish(run.id, "finished");
      ids.push(run.id);
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const newPage = async () => (await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true })).newPage();
  const panel = (page: Page, title: string) => page.locator(`[data-panel="${title}"]`);

  it("groups runs by a config value: each group's mean with a min–max or ±std band, and parallel coordinates", async () => {
    const page = await newPage();
    await page.goto(`${t.server.url}/projects/plots/charts`);
    await expect.poll(() => page.getByTestId("charts-runs").textContent()).toContain("6 runs");
    await page.getByLabel("group by").selectOption("config:opt.lr");
    const loss = panel(page, "train/loss").locator("[data-chart]");
    await expect.poll(() => loss.getAttribute("data-painted"), { timeout: 30_000 }).toBe("200");
    expect(await loss.getAttribute("data-grouped")).toBe("2");
    expect(await loss.getAttribute("data-bands")).toBe("2");
    expect(await loss.getAttribute("data-band")).toBe("minmax");
    // hovering shows each group's mean, its run count and the band
    const box = (await loss.locator("canvas").first().boundingBox())!;
    await page.mouse.move(box.x + 5, box.y + box.height / 2);
    await expect.poll(() => panel(page, "train/loss").locator(".chart-legend").textContent()).toMatch(/0\.1 \(3 runs\).*0\.01 \(3 runs\)/);
    await page.getByLabel("band").selectOption("std");
    await expect.poll(() => loss.getAttribute("data-band")).toBe("std");
    expect(page.url()).toContain("by=config%3Aopt.lr");
    expect(page.url()).toContain("band=std");
    // grouped panels take the x metric too: the epoch (0 … 9.95), not the step
    await page.getByLabel("x metric").selectOption("train/epoch");
    await expect.poll(async () => Math.round(Number(await loss.getAttribute("data-x-last")) * 1e6) / 1e6, { timeout: 30_000 }).toBe(9.95);
    expect(await loss.getAttribute("data-grouped")).toBe("2");
    expect(page.url()).toContain("xkey=train%2Fepoch");
    await page.getByLabel("x metric").selectOption("");

    // parallel coordinates: the varying config keys → the chosen metric, one line per run
    await page.getByLabel("parallel coordinates metric").selectOption("test/accuracy");
    const pc = page.locator('[data-plot="parallel-coordinates"]');
    await expect.poll(() => pc.getAttribute("data-lines")).toBe("6");
    expect(await pc.locator('[data-axis="opt.lr"]').getAttribute("data-scale")).toBe("linear");
    expect(await pc.locator('[data-axis="model"]').getAttribute("data-scale")).toBe("category");
    expect(await pc.locator('[data-axis="test/accuracy"]').count()).toBe(1);
    expect(await pc.locator("path.pc-line").count()).toBe(6);
    await saveScreenshot(page, "charts-grouped");

    // the same grouping folds the runs table: two groups of three (in the table's order, newest first), expandable
    await page.goto(`${t.server.url}/projects/plots?by=tag`);
    const groups = page.locator("tr.group-row");
    await expect
      .poll(() => groups.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute("data-group")}:${tr.getAttribute("data-count")}`)))
      .toEqual(["slow:3", "fast:3"]);
    expect(await page.locator("tr[data-run]").count()).toBe(0);
    await page.getByRole("button", { name: "▸ slow" }).click();
    await expect
      .poll(() => page.locator("tr[data-run]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")).sort()))
      .toEqual(["run-3", "run-4", "run-5"]);
    await page.context().close();
  });

  it("draws a panel of several keys against another metric, goes fullscreen, and downloads its PNG and CSV", async () => {
    const page = await newPage();
    await page.goto(`${t.server.url}/projects/plots/charts?runs=${ids[0]},${ids[3]}&panels=train%2Floss,val%2Floss&xkey=train%2Fepoch`);
    const p = panel(page, "train/loss, val/loss");
    const chart = p.locator("[data-chart]");
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 30_000 }).toBe("200");
    // one frame and one title: the panel's, not the chart's inside it again
    expect(await p.locator("h3").allTextContents()).toEqual(["train/loss, val/loss"]);
    expect(await p.locator(".chart").count()).toBe(0);
    // x is the epoch (0 … 9.95), not the step
    expect(Number(await chart.getAttribute("data-x-last"))).toBeCloseTo(9.95, 5);
    await p.getByRole("button", { name: "Fullscreen" }).click();
    expect(await p.getAttribute("data-fullscreen")).toBe("1");
    await page.keyboard.press("Escape");
    await expect.poll(() => p.getAttribute("data-fullscreen")).toBeNull();

    const [csv] = await Promise.all([page.waitForEvent("download"), p.getByRole("button", { name: "CSV" }).click()]);
    const lines = fs
      .readFileSync((await csv.path())!, "utf8")
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe("run,key,train/epoch,value,min,max");
    expect(lines).toHaveLength(1 + 2 * 2 * 200);
    expect(lines.some((l) => l.startsWith("run-3 · val/loss,val/loss,"))).toBe(true);
    const [png] = await Promise.all([page.waitForEvent("download"), p.getByRole("button", { name: "PNG" }).click()]);
    expect(png.suggestedFilename()).toBe("train_loss_val_loss.png");
    expect(
      fs
        .readFileSync((await png.path())!)
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
    await page.context().close();
  });

  it("saves grouping, smoothing, panels and hidden keys as the default view and reopens them in a new browser context", async () => {
    const first = await newPage();
    await first.goto(`${t.server.url}/projects/plots/charts`);
    await expect.poll(() => first.getByTestId("charts-runs").textContent()).toContain("6 runs");
    await first.getByLabel("group by").selectOption("tag");
    await first.getByLabel("EMA smoothing").fill("0.5");
    await expect.poll(() => panel(first, "val/loss").count()).toBe(1);
    await panel(first, "val/loss").getByRole("button", { name: "Hide" }).click();
    await expect.poll(() => panel(first, "val/loss").count()).toBe(0);
    await first.getByLabel("view name").fill("by tag, smooth");
    await first.getByRole("button", { name: "Save view" }).click();
    await first.getByRole("button", { name: "Make default" }).click();
    await expect.poll(() => first.getByLabel("saved view").textContent()).toContain("by tag, smooth (default)");
    await first.context().close();

    const second = await newPage();
    await second.goto(`${t.server.url}/projects/plots/charts`);
    const loss = panel(second, "train/loss").locator("[data-chart]");
    await expect.poll(() => loss.getAttribute("data-grouped"), { timeout: 30_000 }).toBe("2");
    expect(await second.getByLabel("group by").inputValue()).toBe("tag");
    expect(await second.getByLabel("EMA smoothing").inputValue()).toBe("0.5");
    expect(await panel(second, "val/loss").count()).toBe(0);
    expect(second.url()).toContain("hidden=val%2Floss");
    const [view] = await t.api.view.list.query({ projectId: "plots" });
    expect(view!.state).toMatchObject({ grouping: { by: "tag" }, chart: { ema: 0.5, hidden: ["val/loss"] } });
    await saveScreenshot(second, "charts-saved-view");
    await second.context().close();
  });

  it("keeps the compare view's settings in its URL and moves one crosshair across its charts", async () => {
    const page = await newPage();
    await page.goto(`${t.server.url}/compare?runs=${ids[0]},${ids[3]}&ema=0.5&collapsed=val`);
    const charts = page.locator("[data-chart][data-painted]");
    await expect.poll(() => charts.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await page.getByLabel("EMA smoothing").inputValue()).toBe("0.5");
    expect(await page.locator('[data-chart="val/loss"]').count()).toBe(0);
    await page.getByLabel("x axis").selectOption("relative");
    await expect.poll(() => page.url()).toContain("x=relative");
    // hovering the first chart draws the cursor on the others too (uPlot cursor.sync); the
    // charts are rebuilt for the new x axis, so hover again until the rebuilt ones answer
    let dx = 0;
    await expect
      .poll(async () => {
        const box = (await page.locator('[data-chart="train/loss"] canvas').first().boundingBox())!;
        dx = (dx + 17) % 60;
        await page.mouse.move(box.x + box.width / 3 + dx, box.y + box.height / 2);
        const own = await page.locator('[data-chart="train/loss"] .u-cursor-x').getAttribute("class");
        return `${own} | ${await page.locator('[data-chart="train/epoch"] .u-cursor-x').getAttribute("class")}`;
      })
      .toBe("u-cursor-x | u-cursor-x");
    await page.context().close();
  });
});
