// A team deployment (local mode off) in a real browser: people sign in with email and password,
// see only the projects they belong to, and the job form follows their role — a viewer's
// Submit button is disabled and the API refuses the viewer too; a member submits.
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

describe.skipIf(!hasChromium)("team roles in the dashboard", () => {
  let home: string;
  let server: HeronServer;
  let browser: Browser;

  const signIn = (email: string) => signedInPage(browser, server.url, email, PASSWORD);

  beforeAll(async () => {
    await ensureDashboardBuilt();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-team-"));
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
    const a = await admin.project.create.mutate({ name: "team-a" });
    await admin.project.create.mutate({ name: "team-b" });
    for (const [email, role] of [
      ["viewer@team.test", "viewer"],
      ["member@team.test", "member"],
    ] as const) {
      const u = await admin.user.create.mutate({ email, password: PASSWORD });
      await admin.project.addMember.mutate({ projectId: a.id, userId: u.id, role });
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("a viewer sees only their project and cannot submit; the API refuses them too", async () => {
    const page = await signIn("viewer@team.test");
    await page.getByRole("link", { name: "team-a" }).waitFor();
    expect(await page.getByRole("link", { name: "team-b" }).count()).toBe(0);
    await page.goto(`${server.url}/jobs`);
    await expect.poll(() => page.getByTestId("submit-disabled").textContent()).toMatch(/viewer of "team-a".*needs the member role/);
    expect(await page.getByRole("button", { name: "Submit job" }).isDisabled()).toBe(true);
    // the same session, straight at the API: refused by the server, not only by the page
    const status = await page.evaluate(async () => {
      const res = await fetch("/api/trpc/job.submit", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          json: { projectId: "team-a", spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 } },
        }),
      });
      return { status: res.status, body: await res.text() };
    });
    expect(status.status).toBe(403);
    expect(status.body).toMatch(/needs the project role \\"member\\"/);
    await saveScreenshot(page, "team-viewer-jobs");
  });

  it("a member submits a job from the form", async () => {
    const page = await signIn("member@team.test");
    await page.goto(`${server.url}/jobs`);
    const submit = page.getByRole("button", { name: "Submit job" });
    await expect.poll(() => page.locator("#job-project").inputValue()).toBe("team-a");
    await expect.poll(() => submit.isEnabled()).toBe(true);
    await submit.click();
    await page
      .getByRole("status")
      .filter({ hasText: /queued/ })
      .waitFor();
    const jobs = await createApi(server.url, key).job.list.query({ projectId: "team-a" });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.submittedBy).not.toBeNull();
  });
});
