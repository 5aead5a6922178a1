// The run page in a real browser: the Memory tab's four planned parts beside the planned total
// and the measured peak (bytes with units, a percentage as a percentage), and text samples with
// an image shown as image | question | model answer | ground truth — logged through the SDK —
// while a hostile row stored by some other client renders as text, never as markup.
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { init } from "@heron/sdk";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

const hasChromium = chromiumAvailable();
/** a 4×4 grey ramp */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAAAAACMmsGiAAAAHUlEQVR4XmNgEFAwYHAISChgaJiwYAPDgQsPPgAAMNQHgRYRrmkAAAAASUVORK5CYII=";
const MiB = 2 ** 20;

describe.skipIf(!hasChromium)("run page: Memory tab parts and text samples with images", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "mem-text" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows params + grads, optimizer state, batch and activations beside the planned total and the measured peak", async () => {
    const s = t.server.services;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "mem-text", name: "planned", resume: "never" });
    await s.runs.mergeSummary(run.id, {
      planned_params_grads_bytes: 1 * MiB,
      planned_optimizer_bytes: 2 * MiB,
      planned_batch_bytes: 3 * MiB,
      planned_activations_bytes: 10 * MiB,
      planned_bytes: 16 * MiB,
      measured_peak_bytes: 12 * MiB,
    });
    const ts = Date.now() - 10_000;
    await s.metrics.write(run.id, [
      { key: "sys/h/mem_pct", step: 1, value: 11, ts },
      { key: "sys/h/proc_rss_bytes", step: 1, value: 3 * 2 ** 30, ts },
    ]);
    await page.goto(`${t.server.url}/runs/${run.id}`);
    await page.getByRole("tab", { name: "Memory" }).click();
    const parts = page.getByTestId("memory-parts");
    await expect.poll(() => parts.locator("tbody tr").count()).toBe(6);
    const rows = await parts.locator("tbody tr").allInnerTexts();
    expect(rows.map((r) => r.replace(/\s+/g, " ").trim())).toEqual([
      "params + grads 1.0 MiB 6.25%",
      "optimizer state 2.0 MiB 12.5%",
      "batch 3.0 MiB 18.75%",
      "activations 10.0 MiB 62.5%",
      "planned total 16.0 MiB 100%",
      "measured peak (backend) 12.0 MiB 75%",
    ]);
    expect(await page.getByTestId("memory-ratio").innerText()).toMatch(/75%.*12\.0 MiB of 16\.0 MiB/);
    const measured = await page.getByTestId("memory-measured").innerText();
    expect(measured).toMatch(/sys\/h\/mem_pct\s+11%\s+11%/);
    expect(measured).toMatch(/sys\/h\/proc_rss_bytes\s+3\.0 GiB/);
    expect(measured).not.toMatch(/11 B/);
    await saveScreenshot(page, "run-memory-parts");
  });

  it("shows image | question | model answer | ground truth from the SDK, and a hostile row only as text", async () => {
    const run = await init({ host: t.server.url, apiKey: t.key, project: "mem-text", name: "vlm-samples", dir: path.join(t.home, "sdk-vlm") });
    run.logText(
      "vqa/samples",
      [
        { text: "what is in the picture?", caption: "answer: a sneaker | truth: a sneaker", image: { width: 4, height: 4, png: PNG } },
        { text: "can you wear it?", caption: "answer: no | truth: yes", image: { width: 4, height: 4, png: PNG } },
      ],
      { step: 3 },
    );
    await run.finish();
    // a row another client stored: markup in every field and a script URL for the image
    await t.server.services.prisma.textSample.create({
      data: {
        runId: run.id,
        key: "hostile",
        step: 1,
        ts: new Date(),
        rows: [
          {
            text: '<img src=x onerror="window.__xss=1">',
            caption: "answer: <script>window.__xss=2</script> | truth: ok",
            image: { width: 4, height: 4, png: "javascript:window.__xss=3" },
          },
        ],
      },
    });
    await page.goto(`${t.server.url}/runs/${run.id}`);
    await page.getByRole("tab", { name: "Text" }).click();
    const vqa = page.locator('[data-text-key="vqa/samples"]');
    const table = vqa.getByTestId("text-samples-columns");
    await expect.poll(() => table.locator("thead").innerText()).toMatch(/#\s+image\s+question\s+model answer\s+ground truth/);
    const rows = await table.locator("tbody tr").allInnerTexts();
    expect(rows.map((r) => r.replace(/\s+/g, " ").trim())).toEqual(["1 what is in the picture? a sneaker a sneaker", "2 can you wear it? no yes"]);
    const img = vqa.getByRole("img", { name: "vqa/samples #1" });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(4);
    expect(await img.getAttribute("src")).toBe(`data:image/png;base64,${PNG}`);
    await saveScreenshot(page, "run-text-samples-images");

    const hostile = page.locator('[data-text-key="hostile"]');
    await expect.poll(() => hostile.innerText()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await hostile.innerText()).toContain("<script>window.__xss=2</script>");
    expect(await hostile.locator("img").count()).toBe(0);
    expect(await hostile.locator("script").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });
});
