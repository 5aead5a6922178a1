// The sweep pages for a viewer in a team deployment (local mode off): the sweep's controls are
// disabled with the reason shown, the "New sweep" form cannot be submitted, and the API refuses
// the viewer's pause too (the page is not the only guard).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type HeronServer, startServer } from "../server/create-server";
import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot, signedInPage } from "../testing/browser";
import { createApi } from "../testing/harness";

const hasChromium = chromiumAvailable();
const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
const PASSWORD = "correct horse battery";
const SWEEP = {
  method: "grid",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { values: [0.001, 0.01] } },
  spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 },
};

describe.skipIf(!hasChromium)("sweep pages for a viewer", () => {
  let home: string;
  let server: HeronServer;
  let browser: Browser;
  let sweepId: string;

  const signIn = (email: string) => signedInPage(browser, server.url, email, PASSWORD);

  beforeAll(async () => {
    await ensureDashboardBuilt();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-sweep-viewer-"));
    server = await startServer({
      PORT: 0,
      HOST: "127.0.0.1",
      HERON_HOME: home,
      HERON_BOOTSTRAP_API_KEY: key,
      HERON_LOCAL_MODE: "0",
      dashboard: true,
      logger: pino({ level: "warn" }),
    });
    const admin = createApi(server.url, key);
    const project = await admin.project.create.mutate({ name: "team-sweeps" });
    const viewer = await admin.user.create.mutate({ email: "viewer@sweeps.test", password: PASSWORD });
    await admin.project.addMember.mutate({ projectId: project.id, userId: viewer.id, role: "viewer" });
    // no runners: the first trial stays queued; paused, so the page offers Resume and Cancel
    sweepId = (await admin.sweep.create.mutate({ projectId: "team-sweeps", sweep: SWEEP })).sweepId;
    await admin.sweep.pause.mutate({ sweepId });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("disables the sweep's controls and the form with the reason; the API refuses the viewer", async () => {
    const page = await signIn("viewer@sweeps.test");
    await page.goto(`${server.url}/sweeps/${sweepId}`);
    await expect.poll(() => page.getByTestId("controls-disabled").textContent()).toMatch(/viewer of "team-sweeps".*needs the member role/);
    expect(await page.getByRole("button", { name: "Resume" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Cancel sweep" }).isDisabled()).toBe(true);
    await saveScreenshot(page, "sweep-viewer");
    const status = await page.evaluate(async (id) => {
      const res = await fetch("/api/trpc/sweep.resume", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { sweepId: id } }),
      });
      return res.status;
    }, sweepId);
    expect(status).toBe(403);
    await page.goto(`${server.url}/projects/team-sweeps/sweeps`);
    await page.getByRole("button", { name: "New sweep" }).click();
    await expect.poll(() => page.getByTestId("create-disabled").textContent()).toMatch(/viewer of "team-sweeps"/);
    expect(await page.getByRole("button", { name: "Create sweep" }).isDisabled()).toBe(true);
  });
});
