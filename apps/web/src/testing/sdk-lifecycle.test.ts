// How a run ends follows how its process ends (normal exit → finished,
// uncaught exception → crashed, SIGINT → aborted); a client SIGKILLed mid-run is completed
// by `heron sync` from its directory (→ crashed); offline → sync → sync again is identical.
import fs from "node:fs";
import path from "node:path";

import { init, syncRunDir } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "./harness";
import { killWhileUnreachable, serverPoints, startChild, startProxy, valueAt, walPoints } from "./sdk-helpers";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer("sqlite");
});
afterAll(async () => {
  await t?.close();
});

function client(scenario: string, host = t.server.url) {
  return startChild("sdk-client.ts", [scenario, "lifecycle"], { HERON_HOST: host, HERON_API_KEY: t.key, HERON_HOME: t.home });
}

describe("run lifecycle", () => {
  it("a script that simply returns ends its run as finished, with its output captured", async () => {
    const c = client("exit");
    const [, runId] = await c.waitFor(/RUN (\S+)/);
    expect((await c.exited).code).toBe(0);
    const run = await t.api.run.get.query({ runId: runId! });
    expect(run.status).toBe("finished");
    expect((await t.api.metric.series.query({ runId: runId!, key: "b" })).values.at(-1)).toBe(valueAt(1, 99));
    const logs = await t.api.run.logs.query({ runId: runId! });
    expect(logs.map((l) => l.line)).toContain("done");
    expect(run.environment).toMatchObject({ node: process.version, hostname: expect.any(String) });
  });

  it("an uncaught exception marks the run crashed with the error", async () => {
    const c = client("throw");
    const [, runId] = await c.waitFor(/RUN (\S+)/);
    expect((await c.exited).code).toBe(1);
    expect(c.output()).toContain("boom: the training diverged");
    const run = await t.api.run.get.query({ runId: runId! });
    expect(run.status).toBe("crashed");
    expect(run.error).toContain("boom: the training diverged");
    expect((await t.api.metric.series.query({ runId: runId!, key: "a" })).steps.length).toBe(50);
  });

  it("SIGINT marks the run aborted after flushing what was logged", async () => {
    const c = client("sigint");
    const [, runId] = await c.waitFor(/RUN (\S+)/);
    const [, last] = await c.waitFor(/STEP (2\d\d)\n/);
    c.proc.kill("SIGINT");
    expect((await c.exited).code).toBe(130);
    const run = await t.api.run.get.query({ runId: runId! });
    expect(run.status).toBe("aborted");
    const a = await t.api.metric.series.query({ runId: runId!, key: "a", maxPoints: 100_000 });
    expect(a.steps.length).toBeGreaterThan(Number(last));
    expect(a.steps).toEqual(a.steps.map((_, i) => i));
  });

  it("a client SIGKILLed mid-run: heron sync uploads everything it had flushed and the run ends crashed", async () => {
    const proxy = await startProxy(t.server.port);
    try {
      const { runId, dir } = await killWhileUnreachable(client("kill", proxy.url), proxy);
      const before = await serverPoints(t.api, runId);
      const flushed = walPoints(dir);
      const expected = new Map([...before, ...flushed]);
      expect(expected.size).toBeGreaterThan(before.size + 500);
      expect((await t.api.run.get.query({ runId: runId })).status).toBe("running");

      const r = await syncRunDir(dir, { host: t.server.url, apiKey: t.key });
      expect(r.runId).toBe(runId);
      const after = await serverPoints(t.api, runId);
      expect(after).toEqual(expected);
      const run = await t.api.run.get.query({ runId: runId });
      expect(run.status).toBe("crashed");
      expect(run.error).toMatch(/ended without finishing/);
    } finally {
      await proxy.close();
    }
  });

  it("offline → sync → sync again: identical data", async () => {
    const dir = path.join(t.home, "offline-run");
    const run = await init({
      project: "lifecycle",
      mode: "offline",
      dir,
      config: { lr: 0.01 },
      captureSystem: false,
      captureConsole: false,
      captureExit: false,
    });
    for (let step = 0; step < 2_000; step++) run.log({ a: valueAt(0, step), b: step % 500 === 0 ? NaN : valueAt(1, step) });
    run.logText(
      "samples",
      [
        { text: "2+2?", caption: "question" },
        { text: "4", caption: "answer" },
      ],
      { step: 10 },
    );
    run.logImage("digits", { data: new Float32Array(8 * 8).fill(0.5), width: 8, height: 8 }, { step: 10, caption: "a gray square" });
    run.config.update({ epochs: 3 });
    run.summary.best = 0.93;
    await run.finish();
    expect(fs.existsSync(path.join(dir, "run.json"))).toBe(true);
    await expect(t.api.run.get.query({ runId: run.id })).rejects.toThrow(/not found/);

    const first = await syncRunDir(dir, { host: t.server.url, apiKey: t.key });
    expect(first.writers[0]!.sent).toBeGreaterThan(0);
    const snapshot = async () => {
      const r = await t.api.run.get.query({ runId: run.id });
      return {
        run: { status: r.status, config: r.config, summary: r.summary, finishedAt: r.finishedAt, createdAt: r.createdAt, metrics: r.metrics },
        points: [...(await serverPoints(t.api, run.id))],
        texts: (await t.api.run.texts.query({ runId: run.id })).map((x) => [x.key, x.step, x.rows]),
        media: (await t.api.run.media.query({ runId: run.id })).map((m) => [m.key, m.step, m.caption, m.width, m.height]),
      };
    };
    const once = await snapshot();
    expect(once.run).toMatchObject({ status: "finished", config: { lr: 0.01, epochs: 3 }, summary: { best: 0.93 } });
    expect(once.points.length).toBe(4_000);
    expect(once.points.filter(([, v]) => v === null).length).toBe(4); // NaN kept (drawn as gaps)
    expect(once.texts).toEqual([
      [
        "samples",
        10,
        [
          { text: "2+2?", caption: "question" },
          { text: "4", caption: "answer" },
        ],
      ],
    ]);
    expect(once.media).toEqual([["digits", 10, "a gray square", 8, 8]]);
    const png = await t.api.run.mediaData.query({ runId: run.id, id: (await t.api.run.media.query({ runId: run.id }))[0]!.id });
    expect(Buffer.from(png.base64, "base64").subarray(1, 4).toString()).toBe("PNG");

    const second = await syncRunDir(dir, { host: t.server.url, apiKey: t.key });
    expect(second.writers[0]!.sent).toBe(0);
    expect(await snapshot()).toEqual(once);
  });

  it("resume by id continues the steps; a silent run shows stale and comes back to running", async () => {
    const quiet = { host: t.server.url, apiKey: t.key, captureSystem: false, captureConsole: false, captureExit: false, captureEnvironment: false } as const;
    const first = await init({ project: "lifecycle", dir: path.join(t.home, "resume-1"), config: { lr: 1 }, ...quiet });
    for (let i = 0; i < 10; i++) first.log({ a: i });
    // system metrics are stepped in seconds since start: they must not move the resumed step
    first.log({ "sys/testhost/cpu_pct": 5 }, { step: 500 });
    await first.finish();
    await expect(init({ project: "lifecycle", id: first.id, dir: path.join(t.home, "resume-refused"), ...quiet })).rejects.toThrow(/already exists/);
    const again = await init({ project: "lifecycle", id: first.id, resume: "must", dir: path.join(t.home, "resume-2"), ...quiet });
    again.log({ a: 10 });
    again.config.update({ epochs: 2 });

    // two minutes of silence, as the sweep sees it
    expect(await t.server.services.runs.markStale(Date.now() + 3 * 60_000)).toContain(again.id);
    expect((await t.api.run.get.query({ runId: again.id })).status).toBe("stale");
    again.log({ a: 11 });
    await waitFor(async () => (await t.api.run.get.query({ runId: again.id })).status === "running", 3_000, "data to bring the run back to running");
    await again.finish();
    const run = await t.api.run.get.query({ runId: again.id });
    expect(run.status).toBe("finished");
    expect(run.config).toEqual({ lr: 1, epochs: 2 });
    expect((await t.api.metric.series.query({ runId: again.id, key: "a" })).steps).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
