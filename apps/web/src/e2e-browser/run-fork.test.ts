// "Fork from here" in a real browser: right-click a job run's chart at a step, adjust the
// overrides in the dialog, fork; the new run's page opens and says where it was forked from.
// The parent is seeded (a succeeded job's run with points and one stored checkpoint): what is
// tested is the page and run.fork, not training (services/run-fork.test.ts trains for real).
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

async function* bytes(text: string) {
  yield new TextEncoder().encode(text);
}

describe.skipIf(!chromiumAvailable())("forking a run from its chart in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let parentRunId: string;
  let parentJobId: string;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const s = t.server.services;
    const spec = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 };
    await t.api.project.create.mutate({ name: "forks" });
    parentJobId = (await t.api.job.submit.mutate({ projectId: "forks", spec })).jobId;
    const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "forks", name: "parent", resume: "never" });
    parentRunId = run.id;
    await s.prisma.run.update({ where: { id: run.id }, data: { jobId: parentJobId, status: "finished", config: spec } });
    await s.prisma.job.update({ where: { id: parentJobId }, data: { status: "succeeded", runId: run.id } });
    await s.metrics.write(
      run.id,
      Array.from({ length: 40 }, (_, i) => ({ key: "train/loss", step: i + 1, value: 2 / (i + 1), ts: Date.now() + i })),
    );
    const blob = await s.artifacts.blobs.put(bytes("weights at step 10"));
    await s.prisma.jobCheckpoint.create({
      data: { jobId: parentJobId, step: 10, attempt: 1, complete: true, files: [{ name: "tensors.bin", bytes: blob.bytes, chunks: 1 }] },
    });
    await s.prisma.jobCheckpointFile.create({ data: { jobId: parentJobId, step: 10, name: "tensors.bin", digest: blob.digest, bytes: blob.bytes } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("right-click on a chart opens the fork dialog at that step; forking opens the new run", async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${t.server.url}/runs/${parentRunId}`);
    const chart = page.locator('[data-chart="train/loss"]');
    await expect.poll(() => chart.getAttribute("data-points")).toBe("40");
    const plot = chart.locator(".u-over");
    const box = (await plot.boundingBox())!;
    await plot.click({ button: "right", position: { x: box.width * 0.35, y: box.height / 2 } });
    const dialog = page.getByTestId("fork-dialog");
    await expect.poll(() => dialog.count()).toBe(1);
    const clicked = Number(await dialog.getByLabel("fork step").inputValue());
    expect(clicked).toBeGreaterThan(1);
    expect(clicked).toBeLessThan(40);
    expect(await dialog.getByLabel("fork overrides").inputValue()).toBe('{"lr":0.005}');

    // a step before every stored checkpoint is refused with the steps that can be used
    await dialog.getByLabel("fork step").fill("5");
    await dialog.getByRole("button", { name: "Fork" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain("no checkpoint at or before step 5 (it keeps steps 10)");

    await dialog.getByLabel("fork step").fill("25");
    await dialog.getByLabel("fork overrides").fill('{"lr": 0.002}');
    await dialog.getByRole("button", { name: "Fork" }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/runs/") && !u.pathname.endsWith(parentRunId));
    await expect.poll(() => page.getByTestId("run-forked-from").textContent()).toContain("at step 10");
    // its chart holds the parent's history up to the fork step
    await expect.poll(() => page.locator('[data-chart="train/loss"]').getAttribute("data-points")).toBe("10");
    await saveScreenshot(page, "run-forked");
    const childRunId = page.url().split("/runs/")[1]!.split("?")[0]!;
    const child = await t.server.services.prisma.job.findFirstOrThrow({ where: { runId: childRunId } });
    expect(child.spec).toMatchObject({ lr: 0.002, model: "mlp-mnist" });
    // no runner here: cancelling the queued fork ends its run too (it was made at fork time)
    await t.api.job.cancel.mutate({ jobId: child.id });
    expect((await t.api.run.get.query({ runId: childRunId })).status).toBe("aborted");
  });
});
