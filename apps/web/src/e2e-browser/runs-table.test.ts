// The runs table across server pages in a real browser (Debian chromium + playwright-core): a
// run pinned on page 1 stays on top of every page whatever the sort, and folding by a config
// value shows the groups of every page with their counts (run.groups), a group listing its
// runs from the server. dashboard.test.ts covers filters, sorting and columns on one page.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer } from "../testing/harness";

const N = 60;
const name = (i: number) => `paged-${String(i).padStart(2, "0")}`;
const lrOf = (i: number) => [0.1, 0.01, 0.001][i % 3]!;

describe.skipIf(!chromiumAvailable())("runs table across pages in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    const project = await t.api.project.create.mutate({ name: "paged" });
    // 60 runs, newest last: two pages of 50 newest first; lr 0.1 / 0.01 / 0.001 on every third
    await t.server.services.prisma.run.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        id: `pg-${i}`,
        projectId: project.id,
        name: name(i),
        status: "finished",
        config: { opt: { lr: lrOf(i) }, seed: i },
        createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
        finishedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000 + 30_000),
      })),
    });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const names = () => page.locator('[data-testid="runs-table"] tbody tr[data-run]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")));
  const count = () => page.getByTestId("runs-count").textContent();

  it("keeps a run pinned on page 1 on top of page 2, whatever the sort, and never twice", async () => {
    await page.goto(`${t.server.url}/projects/paged`);
    await expect.poll(names).toHaveLength(50);
    expect((await names())[0]).toBe(name(59));
    await page.getByLabel(`pin ${name(57)}`).click();
    await expect.poll(async () => (await names()).slice(0, 3)).toEqual([name(57), name(59), name(58)]);
    await expect.poll(count).toContain("1–50 of 59 runs · 1 pinned on every page");

    await page.getByTestId("page-next").click();
    // page 2: the pinned run, then the 9 oldest (page 1 held the 50 newest but the pinned one)
    await expect.poll(names).toEqual([name(57), ...Array.from({ length: 9 }, (_, k) => name(8 - k))]);
    await expect.poll(count).toContain("51–59 of 59 runs · 1 pinned on every page");

    // another sort starts at page 1 again: the pinned run still first, and not among the others
    await page.getByTitle("sort by Name").click();
    await expect.poll(async () => (await names()).slice(0, 3)).toEqual([name(57), name(0), name(1)]);
    await page.getByTestId("page-next").click();
    await expect.poll(async () => (await names())[1]).toBe(name(50));
    const second = await names();
    expect(second[0]).toBe(name(57));
    expect(second.filter((n) => n === name(57))).toHaveLength(1);

    // the filters do not hide a pinned run: it stays on top, marked
    await page.getByLabel("filter runs").fill("seed=3");
    await expect.poll(names).toEqual([name(57), name(3)]);
    await expect.poll(count).toContain("1–1 of 1 runs · 1 pinned on every page (1 outside the filters)");
    expect(await page.locator(`tr[data-run="${name(57)}"]`).getAttribute("data-outside")).toBe("true");
    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await expect.poll(names).toHaveLength(51);
    expect(pageErrors).toEqual([]);
  });

  it("folds by a config value over every page with counts, and opens a group from the server", async () => {
    await page.getByLabel("group runs by").selectOption("config:opt.lr");
    const groups = page.locator("tr.group-row");
    // 20 runs each over both pages (one page would fold its 50 and the pinned run); newest run first
    await expect
      .poll(() => groups.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute("data-group")}:${tr.getAttribute("data-count")}`)))
      .toEqual(["0.001:20", "0.01:20", "0.1:20"]);
    await expect.poll(count).toContain("60 runs in 3 groups · 1 pinned on every page");
    expect(await names()).toEqual([name(57)]); // folded: only the pinned run before the groups
    expect(page.url()).toContain("by=config%3Aopt.lr");

    await page.getByRole("button", { name: "▸ 0.01" }).click();
    // the group's 20 runs, in the table's sort (name, ascending), read from the server
    const in001 = Array.from({ length: N }, (_, i) => i)
      .filter((i) => lrOf(i) === 0.01)
      .map(name);
    await expect.poll(names).toEqual([name(57), ...in001]);
    // rows of a group off the current page show their config like any other row
    const lrCells = page.locator("tr[data-run] td:last-child");
    expect(await lrCells.allInnerTexts()).toEqual(["0.1", ...in001.map(() => "0.01")]);
    await saveScreenshot(page, "runs-table-folded-all-pages");
    // a run selected in the group (not on the table's page) is one the bulk actions reach
    await page.getByLabel(`select ${name(4)}`).check();
    await page.getByLabel("bulk tag").fill("picked");
    await page.getByRole("button", { name: "Add tag" }).click();
    await expect.poll(() => page.locator(`tr[data-run="${name(4)}"] .tag`).allInnerTexts(), { timeout: 10_000 }).toEqual(["picked"]);
    expect((await t.api.run.list.query({ projectId: "paged", tag: "picked" })).map((r) => r.name)).toEqual([name(4)]);
    await page.getByRole("button", { name: "▾ 0.01" }).click();
    await expect.poll(names).toEqual([name(57)]);
    expect(pageErrors).toEqual([]);
  });
});
