// Alerts in a real browser: a maintainer adds a "run failed" rule from the project page, a job
// fails, a webhook receiver on 127.0.0.1 gets the POST, and the delivery log shows it delivered.
import http from "node:http";
import type { AddressInfo } from "node:net";

import { PROTOCOL_VERSION } from "@heron/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";
import { startTestServer, type TestServer, waitFor } from "../testing/harness";

const v = PROTOCOL_VERSION;

describe.skipIf(!chromiumAvailable())("alerts in a real browser", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let receiver: http.Server;
  let hookUrl = "";
  const received: Record<string, unknown>[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/secret-token-123`;
    await ensureDashboardBuilt();
    t = await startTestServer("sqlite", { dashboard: true });
    await t.api.project.create.mutate({ name: "watched" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("delivers an alert to a local webhook receiver when a job fails, and logs it", async () => {
    await page.goto(`${t.server.url}/projects/watched`);
    const panel = page.getByTestId("alerts-panel");
    await panel.locator("summary").click();
    await page.getByLabel("rule name").fill("job failed");
    await page.getByLabel("rule event").selectOption("run.failed");
    await page.getByLabel("webhook URL").fill(hookUrl);
    await page.getByLabel("webhook format").selectOption("slack");
    await page.getByRole("button", { name: "Add rule" }).click();
    const rules = page.getByRole("table", { name: "alert rules" });
    await expect.poll(() => rules.textContent()).toContain("job failed");
    // the token in the URL is never shown back
    expect(await panel.textContent()).not.toContain("secret-token-123");

    const { token } = await t.api.runner.createToken.mutate({ name: "r1" });
    const s = await t.connect(token);
    await s.emitWithAck("runner:hello", { v, name: "r1", hostname: "h", cpus: 1, memoryBytes: 1, backend: "wasm", slots: 1, queues: ["default"] });
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "watched",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 },
    });
    const claim = await s.emitWithAck("runner:claim", { v });
    if (!claim.ok || !claim.lease) throw new Error("no lease");
    await s.emitWithAck("job:report", { v, jobId, fencingToken: claim.lease.fencingToken, status: "failed", exitCode: 1, error: "loss is NaN" });
    const post = await waitFor(async () => received[0], 10_000, "the webhook POST");
    expect(String(post.text)).toMatch(/\[watched\] Run .* crashed/);

    const log = page.getByRole("table", { name: "alert deliveries" });
    await expect.poll(() => log.locator("tr[data-status=delivered]").count(), { timeout: 10_000 }).toBe(1);
    expect(await log.textContent()).toContain("HTTP 204");
    await saveScreenshot(page, "alerts-delivery-log");
    expect(pageErrors).toEqual([]);
    s.close();
  });
});
