// 100,000 points logged while the server is SIGKILLed and restarted,
// and while the network drops for 20 s — the server ends with exactly 100,000 points,
// values intact, no duplicates, and the run never shows a final bad state.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { init, type Run } from "@heron/sdk";
import { afterAll, describe, expect, it } from "vitest";

import { createApi, startTestServer, type TestServer } from "./harness";
import { type Child, freePort, startChild, startProxy, valueAt } from "./sdk-helpers";

const KEYS = 10;
const STEPS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** logs STEPS steps × KEYS keys, pausing now and then like a training loop; `at(step)` hooks in */
async function logAll(run: Run, pauseEvery: number, pauseMs: number, at: (step: number) => void | Promise<void>) {
  for (let step = 0; step < STEPS; step++) {
    const m: Record<string, number> = {};
    for (let k = 0; k < KEYS; k++) m[`k${k}`] = valueAt(k, step);
    run.log(m, { step });
    await at(step);
    if (step % pauseEvery === 0) await sleep(pauseMs);
  }
}

async function expectAllPoints(api: ReturnType<typeof createApi>, runId: string) {
  const got = await api.run.get.query({ runId });
  expect(got.status).toBe("finished");
  expect(got.keys.sort()).toEqual(Array.from({ length: KEYS }, (_, k) => `k${k}`).sort());
  let total = 0;
  for (let k = 0; k < KEYS; k++) {
    const s = await api.metric.series.query({ runId, key: `k${k}`, maxPoints: 100_000 });
    expect(s.bucketed).toBe(false);
    total += s.steps.length;
    // every step exactly once, in order, with the exact value logged
    expect(s.steps).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    const wrong = s.values.findIndex((v, i) => v !== valueAt(k, i));
    expect(wrong).toBe(-1);
  }
  expect(total).toBe(KEYS * STEPS);
}

describe("the SDK never loses a point", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("while the server is SIGKILLed and restarted mid-run", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-kill-"));
    const port = await freePort();
    const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
    const env = { HERON_HOME: home, PORT: String(port), HERON_BOOTSTRAP_API_KEY: key, LOG_LEVEL: "warn" };
    let server: Child = startChild("server-process.ts", [], env);
    cleanups.push(() => {
      server.proc.kill("SIGKILL");
      fs.rmSync(home, { recursive: true, force: true });
    });
    await server.waitFor(/READY/);
    const url = `http://127.0.0.1:${port}`;
    const run = await init({
      project: "durable",
      host: url,
      apiKey: key,
      dir: path.join(home, "client"),
      captureSystem: false,
      captureConsole: false,
      captureExit: false,
      captureEnvironment: false,
      flushIntervalMs: 100,
    });

    let restarted: Promise<unknown> = Promise.resolve();
    await logAll(run, 200, 30, async (step) => {
      if (step === 2_000) {
        server.proc.kill("SIGKILL");
        await server.exited;
      }
      if (step === 4_000) {
        server = startChild("server-process.ts", [], env);
        restarted = server.waitFor(/READY/);
      }
    });
    await restarted;
    await run.finish();
    await expectAllPoints(createApi(url, key), run.id);
  });

  it("while the network drops for 20 s", async () => {
    const t: TestServer = await startTestServer("sqlite");
    const proxy = await startProxy(t.server.port);
    cleanups.push(async () => {
      await proxy.close();
      await t.close();
    });
    const run = await init({
      project: "durable",
      host: proxy.url,
      apiKey: t.key,
      dir: path.join(t.home, "client"),
      captureSystem: false,
      captureConsole: false,
      captureExit: false,
      captureEnvironment: false,
      flushIntervalMs: 100,
    });
    const statuses = new Set<string>();
    let restored: Promise<void> = Promise.resolve();
    await logAll(run, 100, 60, async (step) => {
      if (step !== 1_000) return;
      proxy.drop();
      // the dashboard's view during the drop (straight to the server, not through the proxy)
      restored = (async () => {
        for (let i = 0; i < 20; i++) {
          statuses.add((await t.api.run.get.query({ runId: run.id })).status);
          await sleep(1_000);
        }
        proxy.restore();
      })();
    });
    await restored;
    await run.finish();
    expect([...statuses]).toEqual(["running"]);
    await expectAllPoints(t.api, run.id);
  });
});
