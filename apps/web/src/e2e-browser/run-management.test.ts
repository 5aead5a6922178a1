// Run management and the summary panel in a real browser: rename, tags and markdown notes (shown
// without raw HTML), trash and restore from the runs table, and a metric with a single point drawn
// as a marker with its value.
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

const hasChromium = chromiumAvailable();

/** a finished run with a 100-step loss curve and, optionally, one test/accuracy point at the end */
async function seedRun(t: TestServer, name: string, opts: { finalAccuracy?: number; summary?: Record<string, unknown> } = {}) {
  const s = t.server.services;
  const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "manage", name, resume: "never", tags: ["seeded"] });
  const ts = Date.now() - 100_000;
  const points = Array.from({ length: 100 }, (_, step) => ({ key: "train/loss", step, value: Math.exp(-step / 30), ts: ts + step * 1000 }));
  if (opts.finalAccuracy !== undefined) points.push({ key: "test/accuracy", step: 99, value: opts.finalAccuracy, ts: ts + 99_000 });
  await s.metrics.write(run.id, points);
  await s.runs.finish(run.id, "finished", undefined, opts.summary);
  return run.id;
}

describe.skipIf(!hasChromium)("run management in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const ids = { alpha: "", beta: "" };
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    ids.alpha = await seedRun(t, "alpha", { finalAccuracy: 0.9312, summary: { best_epoch: 3, note: "final" } });
    ids.beta = await seedRun(t, "beta");
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => void d.accept());
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("renames a run, adds and removes tags, and renders its markdown notes without raw HTML", async () => {
    await page.goto(`${t.server.url}/runs/${ids.alpha}`);
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("run name").fill("alpha-renamed");
    await page.getByRole("button", { name: "Save name" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toContain("alpha-renamed");

    const tags = page.getByTestId("run-tags");
    for (const tag of ["baseline", "v2"]) {
      await page.getByLabel("new tag").fill(tag);
      await page.getByRole("button", { name: "Add tag" }).click();
      await tags.getByText(tag).waitFor();
    }
    await page.getByRole("button", { name: "remove tag v2" }).click();
    await expect.poll(() => tags.textContent()).not.toContain("v2");

    await page.getByRole("button", { name: "Add notes" }).click();
    const notes =
      "## Why this run\nTried **cosine** decay with `lr=0.1`.\n- item one\n- item two\n<script>window.pwned=1</script> [bad](javascript:alert(1)) [docs](https://example.com)";
    await page.getByLabel("run notes").fill(notes);
    await page.getByRole("button", { name: "Save notes" }).click();
    const rendered = page.getByTestId("run-notes");
    await rendered.locator("h4", { hasText: "Why this run" }).waitFor();
    expect(await rendered.locator("strong").textContent()).toBe("cosine");
    expect(await rendered.locator("li").count()).toBe(2);
    expect(await rendered.locator("script").count()).toBe(0);
    expect(await rendered.textContent()).toContain("<script>window.pwned=1</script>");
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await rendered.locator("a").count()).toBe(1); // the javascript: link stays text
    expect(await rendered.locator("a").getAttribute("href")).toBe("https://example.com");
    await saveScreenshot(page, "run-management-notes");

    // stored, not just drawn: a fresh load shows the same
    await page.reload();
    await page.getByTestId("run-notes").locator("strong").waitFor();
    expect(await page.locator("h1").textContent()).toContain("alpha-renamed");
    expect(await page.getByTestId("run-tags").textContent()).toMatch(/seeded.*baseline/);
    const run = await t.api.run.get.query({ runId: ids.alpha });
    expect(run).toMatchObject({ name: "alpha-renamed", tags: ["seeded", "baseline"], notes });
  });

  it("moves a run to the trash from the runs table and restores it from the Trash view", async () => {
    await page.goto(`${t.server.url}/projects/manage`);
    const rows = page.locator('[data-testid="runs-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel("select beta").check();
    await page.getByTestId("bulk-actions").getByRole("button", { name: "Move to trash" }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-run")).toBe("alpha-renamed");

    await page.getByLabel("which runs").selectOption("trash");
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")))).toEqual(["beta"]);
    await saveScreenshot(page, "run-management-trash");
    await page.getByLabel("select beta").check();
    await page.getByRole("button", { name: "Restore 1 run" }).click();
    await page.getByText("No runs here.").waitFor();

    await page.getByLabel("which runs").selectOption("active");
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")).sort())).toEqual(["alpha-renamed", "beta"]);
  });

  it("shows the summary panel and draws a single-point metric as a marker with its value", async () => {
    await page.goto(`${t.server.url}/runs/${ids.alpha}`);
    const summary = page.getByTestId("run-summary");
    await summary.locator('tr[data-key="test/accuracy"]').waitFor();
    expect(await summary.locator('tr[data-key="test/accuracy"]').textContent()).toContain("0.9312");
    expect(await summary.locator('tr[data-key="train/loss"]').textContent()).toContain("100"); // points
    expect(await page.getByTestId("run-summary-values").textContent()).toMatch(/best_epoch\s*3/);

    const chart = page.locator('[data-chart="test/accuracy"]');
    await expect.poll(() => chart.getAttribute("data-single-point")).toBe("0.9312");
    // the marker and its label are drawn: the canvas holds pixels of the line's colour
    const colored = await chart.locator("canvas").evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3]! > 200 && Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 80) n++;
      return n;
    });
    expect(colored).toBeGreaterThan(30);
    await chart.scrollIntoViewIfNeeded();
    await saveScreenshot(page, "run-management-single-point");
  });

  it("keeps the tab, smoothing, x-axis and collapsed sections in the URL across a reload", async () => {
    await page.goto(`${t.server.url}/runs/${ids.alpha}`);
    await page.locator('[data-chart="train/loss"][data-painted]').waitFor();
    await page.getByLabel("EMA smoothing").fill("0.6");
    await page.getByLabel("x axis").selectOption("relative");
    await page.locator('[data-section="test"] .section-toggle').click();
    await page.getByRole("tab", { name: "Logs" }).click();
    await expect.poll(() => Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ tab: "logs", ema: "0.6", x: "relative", collapsed: "test" });

    await page.reload();
    await expect.poll(() => page.getByRole("tab", { name: "Logs" }).getAttribute("aria-selected")).toBe("true");
    await page.getByRole("tab", { name: "Charts" }).click();
    expect(await page.getByLabel("EMA smoothing").inputValue()).toBe("0.6");
    expect(await page.getByLabel("x axis").inputValue()).toBe("relative");
    expect(await page.locator('[data-section="test"] .section-toggle').getAttribute("aria-expanded")).toBe("false");
    expect(await page.locator('[data-section="train"] .section-toggle').getAttribute("aria-expanded")).toBe("true");
    expect(new URL(page.url()).searchParams.get("tab")).toBeNull(); // the default tab is left out
  });
});
