// A process that resumes a run uploads what an earlier process of that run left
// unsent in the run directory (SIGKILLed while the server was unreachable) — without the user
// running `heron sync`, each flushed point exactly once, and the run ends as the new process
// ends it (not "crashed" for the process that died).
import { syncRunDir } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "./harness";
import { killWhileUnreachable, serverPoints, startChild, startProxy, valueAt, walPoints } from "./sdk-helpers";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer("sqlite");
});
afterAll(async () => {
  await t?.close();
});

function client(scenario: string, host: string, env: Record<string, string> = {}) {
  return startChild("sdk-client.ts", [scenario, "takeover"], { HERON_HOST: host, HERON_API_KEY: t.key, HERON_HOME: t.home, ...env });
}

describe("a resumed process takes over an earlier one's unsent log", () => {
  it("SIGKILLed while the server was unreachable; the next process of the run uploads its leftovers", async () => {
    const proxy = await startProxy(t.server.port);
    let runId: string;
    let dir: string;
    try {
      ({ runId, dir } = await killWhileUnreachable(client("kill", proxy.url), proxy));
    } finally {
      await proxy.close();
    }
    const before = await serverPoints(t.api, runId);
    const flushed = walPoints(dir);
    const expected = new Map([...before, ...flushed]);
    expect(expected.size).toBeGreaterThan(before.size + 500);
    const lastFlushed = Math.max(...[...flushed.keys()].map((k) => Number(k.split("@")[1])));

    // the job restarts (server reachable now) and resumes the run from the same directory
    const second = client("continue", t.server.url, { HERON_TEST_RESUME: `${runId} ${dir}` });
    await second.waitFor(/RUN /);
    // init returned only once the leftovers were on the server (a rewind right after init,
    // as a job's next attempt does, must find them there)
    const atInit = await serverPoints(t.api, runId);
    expect([...expected].filter(([k, v]) => atInit.get(k) !== v)).toEqual([]);
    expect((await second.exited).code).toBe(0);
    expect(second.output()).toMatch(/uploading what earlier processes of run \S+ left unsent/);

    // the dead process's points, each once with its value, then the new process's 100 steps
    // right after them (they did not overwrite or lose any step)
    for (let i = 0; i < 100; i++) {
      expected.set(`a@${lastFlushed + 1 + i}`, valueAt(2, i));
      expected.set(`b@${lastFlushed + 1 + i}`, valueAt(3, i));
    }
    expect(await serverPoints(t.api, runId)).toEqual(expected);
    for (const key of ["a", "b"]) {
      const s = await t.api.metric.series.query({ runId, key, maxPoints: 100_000 });
      expect(s.steps).toEqual(Array.from({ length: lastFlushed + 101 }, (_, i) => i));
    }
    const run = await t.api.run.get.query({ runId });
    expect(run.status).toBe("finished");

    // nothing is left for heron sync, and it does not end the run as crashed afterwards
    const r = await syncRunDir(dir, { host: t.server.url, apiKey: t.key });
    expect(r.writers.reduce((n, w) => n + w.sent, 0)).toBe(0);
    expect((await t.api.run.get.query({ runId })).status).toBe("finished");
    expect(await serverPoints(t.api, runId)).toEqual(expected);
  });
});
