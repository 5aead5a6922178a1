// The artifacts pages and the lineage graph in a real browser: the project's artifacts page
// lists a version with its aliases; its page shows files, metadata and who used it, moves an
// alias through the form, and draws the lineage graph, whose nodes open their run pages.
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { LOCAL_PRINCIPAL } from "../server/auth/principal";
import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

async function* bytes(text: string) {
  yield new TextEncoder().encode(text);
}

describe.skipIf(!chromiumAvailable())("artifacts and lineage in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let producer: string;
  let user: string;
  let versionId: string;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const s = t.server.services;
    producer = (await s.runs.init({ v: PROTOCOL_VERSION, project: "registry", name: "teacher-run", resume: "never" })).run.id;
    user = (await s.runs.init({ v: PROTOCOL_VERSION, project: "registry", name: "student-run", resume: "never" })).run.id;
    const projectId = (await s.projects.get("registry")).id;
    const meta = await s.artifacts.blobs.put(bytes('{"step": 40}'));
    const tensors = await s.artifacts.blobs.put(bytes("0123456789abcdef"));
    const v = await s.artifacts.commit(LOCAL_PRINCIPAL, projectId, {
      projectId,
      name: "teacher-model",
      type: "model",
      files: [
        { path: "meta.json", ...meta },
        { path: "tensors.bin", ...tensors },
      ],
      metadata: { model: "mlp-mnist", step: 40 },
      runId: producer,
    });
    versionId = v.id;
    await s.artifacts.setAlias(LOCAL_PRINCIPAL, versionId, "production");
    await s.artifacts.recordUse(LOCAL_PRINCIPAL, versionId, { runId: user });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lists the version and its aliases, moves an alias, and navigates the lineage graph", async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${t.server.url}/projects/registry`);
    await page.getByRole("link", { name: "Artifacts" }).click();
    const row = page.locator('[data-testid="artifacts-table"] tr[data-artifact="teacher-model"]');
    await expect.poll(() => row.textContent()).toContain("production → v0");
    expect(await row.textContent()).toContain("latest → v0");

    await row.getByRole("link", { name: "teacher-model" }).click();
    await expect.poll(() => page.getByTestId("artifact-title").textContent()).toBe("teacher-model:v0");
    const download = page.locator('[data-testid="artifact-files"] a', { hasText: "meta.json" });
    expect(await download.getAttribute("href")).toBe(`/api/artifacts/${versionId}/files/meta.json`);
    expect(await page.getByTestId("artifact-metadata").textContent()).toContain("mlp-mnist");
    expect(await page.getByTestId("artifact-uses").textContent()).toContain("student-run");

    // a maintainer (local mode) moves "staging" here through the form
    await page.getByLabel("alias", { exact: true }).fill("staging");
    await page.getByRole("button", { name: "Point at v0" }).click();
    await expect.poll(() => page.getByTestId("artifact-aliases").textContent()).toContain("staging");
    expect((await t.api.artifact.get.query({ projectId: "registry", name: "teacher-model", alias: "staging" })).id).toBe(versionId);

    // the lineage graph: producer run → this version → the run that used it
    const graph = page.getByTestId("lineage-graph");
    await expect.poll(() => graph.locator("[data-node]").count()).toBe(3);
    // the graph's node shows the alias just moved
    await expect.poll(() => graph.locator(`[data-node="artifact:${versionId}"]`).textContent()).toContain("staging");
    expect(await graph.locator('[data-edge-type="produced"]').count()).toBe(1);
    expect(await graph.locator('[data-edge-type="used"]').count()).toBe(1);
    await saveScreenshot(page, "artifact-page");
    await graph.locator(`a[data-node="run:${producer}"]`).click();
    await page.waitForURL(`**/runs/${producer}`);

    // the run page's Lineage tab draws the same neighbourhood from the run's side
    await page.getByRole("tab", { name: "Lineage" }).click();
    const runGraph = page.getByTestId("lineage-graph");
    await expect.poll(() => runGraph.locator("[data-node]").count()).toBe(3);
    await runGraph.locator(`a[data-node="artifact:${versionId}"]`).click();
    await expect.poll(() => page.getByTestId("artifact-title").textContent()).toBe("teacher-model:v0");
  });
});
