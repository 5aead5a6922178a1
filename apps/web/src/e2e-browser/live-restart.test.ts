// Live updates in a real browser: points logged over socket.io reach an open run page within
// a second, and the page survives a server restart (same home, same port, a new local key):
// it reconnects, catches up on what was written meanwhile, and keeps receiving live points
// — all without a reload.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type HeronServer, startServer } from "../server/create-server";
import { chromiumAvailable, ensureDashboardBuilt, launchBrowser, saveScreenshot } from "../testing/browser";

const hasChromium = chromiumAvailable();
const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
const points = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ key: "train/loss", step: from + i, value: 1 / (from + i + 1), ts: Date.now() }));

describe.skipIf(!hasChromium)("live run page across a server restart", () => {
  let home: string;
  let server: HeronServer;
  let browser: Browser;
  let page: Page;
  const boot = (port: number) =>
    startServer({ PORT: port, HOST: "127.0.0.1", HERON_HOME: home, HERON_BOOTSTRAP_API_KEY: key, dashboard: true, logger: pino({ level: "warn" }) });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-restart-"));
    server = await boot(0);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("shows new points within a second and catches up after a restart without a reload", async () => {
    const { run } = await server.services.runs.init({ v: PROTOCOL_VERSION, project: "live", name: "live-run", resume: "never" });
    await server.services.metrics.write(run.id, points(0, 50));
    await page.goto(`${server.url}/runs/${run.id}`);
    const chart = page.locator('[data-chart="train/loss"]');
    await expect.poll(() => chart.getAttribute("data-painted")).toBe("50");
    const marker = await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = Math.random()));

    // live: a batch through the real ingestion path appears on the open page within 1 s
    const sdk = io(server.url, { path: "/socket.io", auth: { token: key }, transports: ["websocket"], reconnection: false });
    await new Promise<void>((r) => sdk.once("connect", () => r()));
    const ack = await sdk.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: run.id, seq: 1, writer: "w1", points: points(50, 60) });
    expect(ack.ok).toBe(true);
    const sent = Date.now();
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 5000, interval: 20 }).toBe("60");
    const latency = Date.now() - sent;
    expect(latency).toBeLessThan(1000);
    sdk.close();

    // restart on the same port and home: the page's local key is now stale
    const port = server.port;
    await server.close();
    server = await boot(port);
    await server.services.metrics.write(run.id, points(60, 80)); // written while the page was disconnected
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 20_000 }).toBe("80");

    // and live again after the reconnect
    const sdk2 = io(server.url, { path: "/socket.io", auth: { token: key }, transports: ["websocket"], reconnection: false });
    await new Promise<void>((r) => sdk2.once("connect", () => r()));
    expect((await sdk2.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: run.id, seq: 1, writer: "w2", points: points(80, 90) })).ok).toBe(true);
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 5000 }).toBe("90");
    sdk2.close();
    // same document: no reload happened
    expect(await page.evaluate(() => (window as unknown as { __marker: number }).__marker)).toBe(marker);
    await saveScreenshot(page, "run-after-restart-1280");
  });

  it("grows a running run's curve in the compare view", async () => {
    const s = server.services;
    const { run: done } = await s.runs.init({ v: PROTOCOL_VERSION, project: "live", name: "finished-run", resume: "never" });
    await s.metrics.write(done.id, points(0, 20));
    await s.runs.finish(done.id, "finished");
    const { run: running } = await s.runs.init({ v: PROTOCOL_VERSION, project: "live", name: "running-run", resume: "never" });
    await s.metrics.write(running.id, points(0, 10));
    // the page's socket connects late (a loaded machine): the stored read must not be drawn
    // before the live subscription stands, or points logged in between never show
    await page.routeWebSocket(/socket\.io/, async (ws) => {
      await new Promise((r) => setTimeout(r, 1500));
      ws.connectToServer();
    });
    await page.goto(`${server.url}/compare?runs=${done.id},${running.id}`);
    const chart = page.locator('[data-chart="train/loss"]');
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 10_000 }).toBe("20"); // union of both runs' steps
    await page.unrouteAll();
    const sdk = io(server.url, { path: "/socket.io", auth: { token: key }, transports: ["websocket"], reconnection: false });
    await new Promise<void>((r) => sdk.once("connect", () => r()));
    expect((await sdk.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: running.id, seq: 1, writer: "c1", points: points(10, 30) })).ok).toBe(true);
    await expect.poll(() => chart.getAttribute("data-painted"), { timeout: 5000 }).toBe("30");
    sdk.close();
  });
});
