// Saved views in a real browser: filter, sort and pin the runs table, save that as the project's
// default view, and find it applied in a new browser context (no localStorage, no URL state).
import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

describe.skipIf(!chromiumAvailable())("saved views in a real browser", () => {
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const s = t.server.services;
    for (const [name, tags] of [
      ["apple", ["keep"]],
      ["banana", ["keep"]],
      ["cherry", ["keep"]],
      ["durian", ["drop"]],
    ] as const) {
      const { run } = await s.runs.init({ v: PROTOCOL_VERSION, project: "views", name, resume: "never", tags: [...tags] });
      await s.runs.finish(run.id, "finished");
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const rowNames = (page: Page) => page.locator('[data-testid="runs-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")));

  it("saves filters, sort and pins as the default view and reopens it in a new browser context", async () => {
    const first = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await first.goto(`${t.server.url}/projects/views`);
    await expect.poll(() => rowNames(first)).toHaveLength(4);
    await first.getByLabel("tag filter").selectOption("keep");
    await first.getByTitle("sort by Name").click(); // ascending
    await first.getByTitle("sort by Name").click(); // descending
    await first.getByLabel("pin apple").click();
    await expect.poll(() => rowNames(first)).toEqual(["apple", "cherry", "banana"]);
    await first.getByLabel("view name").fill("kept, z→a");
    await first.getByRole("button", { name: "Save view" }).click();
    await first.getByRole("button", { name: "Make default" }).click();
    await expect.poll(() => first.getByLabel("saved view").textContent()).toContain("kept, z→a (default)");
    await first.context().close();

    const second = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await second.goto(`${t.server.url}/projects/views`);
    await expect.poll(() => rowNames(second)).toEqual(["apple", "cherry", "banana"]);
    expect(await second.getByLabel("tag filter").inputValue()).toBe("keep");
    expect(await second.getByLabel("pin apple").getAttribute("aria-pressed")).toBe("true");
    await saveScreenshot(second, "saved-view-reopened");

    const views = await t.api.view.list.query({ projectId: "views" });
    expect(views).toEqual([
      expect.objectContaining({ name: "kept, z→a", isDefault: true, state: expect.objectContaining({ sort: { col: "name", dir: -1 } }) }),
    ]);
  });

  it("keeps one default per project and refuses a duplicate name", async () => {
    const a = await t.api.view.create.mutate({ projectId: "views", name: "a", state: { view: "all" }, isDefault: true });
    const list = await t.api.view.list.query({ projectId: "views" });
    expect(list.filter((v) => v.isDefault).map((v) => v.id)).toEqual([a.id]);
    await expect(t.api.view.create.mutate({ projectId: "views", name: "a", state: {} })).rejects.toThrow(/already exists/);
    await expect(t.api.view.create.mutate({ projectId: "views", name: "b", state: { sort: { col: "x", dir: 2 } } as never })).rejects.toThrow(/dir/);
    await t.api.view.delete.mutate({ projectId: "views", viewId: a.id });
    expect((await t.api.view.list.query({ projectId: "views" })).map((v) => v.name)).toEqual(["kept, z→a"]);
  });
});
