// Real training jobs (child processes, tfjs): a job whose runner host is SIGKILLed resumes on
// ANOTHER runner (empty HERON_HOME) from its last checkpoint, into the same run, with the
// tail after the checkpoint rewound; and a cancel reaches a running job within 5 s.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createProcessExecutor, RunnerDaemon, type RunnerProcess, spawnRunner } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../testing/harness";

// short enough that the killed host's lease expires quickly, long enough that a live runner
// on a loaded 2-core CI machine (heartbeats every TTL/3) never misses one
const TTL_S = 5;
const SPEC = {
  kind: "train",
  dataset: "mnist",
  model: "mlp-mnist",
  epochs: 3,
  batchSize: 32,
  lr: 0.002,
  maxTrainSamples: 12000,
  maxTestSamples: 500,
  seed: 7,
  logEvery: 5,
  checkpointEvery: 100,
};

describe("real training jobs on runners", () => {
  let t: TestServer;
  const homes: string[] = [];
  const procs: RunnerProcess[] = [];
  const daemons: RunnerDaemon[] = [];
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "heron-runner-"));
    homes.push(h);
    return h;
  };
  beforeAll(async () => {
    t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: TTL_S });
    await t.api.project.create.mutate({ name: "resume" });
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("resumes a job whose runner was killed on another runner, from its last checkpoint, into the same run", { timeout: 150_000 }, async () => {
    const first = await t.api.runner.createToken.mutate({ name: "host-a" });
    const a = spawnRunner({ server: t.server.url, token: first.token, name: "host-a", home: home() });
    procs.push(a);
    await a.registered;
    const { jobId } = await t.api.job.submit.mutate({ projectId: "resume", spec: SPEC });
    // kill host A once a checkpoint has reached the server (and before the job ends)
    await waitFor(async () => (await t.api.job.events.query({ jobId })).some((e) => e.type === "checkpoint"), 90_000, "a checkpoint on the server");
    a.child.kill("SIGKILL");
    const killed = await t.api.job.get.query({ jobId });
    expect(killed.status).toBe("running");
    const storedStep = killed.checkpointStep!;
    expect(storedStep).toBeGreaterThan(0);

    // host B has never seen this job: its checkpoint folder is empty
    const second = await t.api.runner.createToken.mutate({ name: "host-b" });
    const b = new RunnerDaemon({
      checkpointSyncMs: 500,
      server: t.server.url,
      token: second.token,
      name: "host-b",
      slots: 1,
      home: home(),
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    daemons.push(b);
    await b.start();
    const done = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      120_000,
      "the job to finish on host B",
    );
    expect(done.error ?? "").toBe("");
    expect(done.status).toBe("succeeded");
    expect(done.attemptHistory.map((x) => [x.attempt, x.runnerName, x.status])).toEqual([
      [1, "host-a", "lost"],
      [2, "host-b", "succeeded"],
    ]);
    expect(done.runId).toBe(killed.runId);
    expect(await t.api.run.list.query({ projectId: "resume" })).toHaveLength(1);

    const events = await t.api.job.events.query({ jobId });
    const types = events.map((e) => e.type);
    expect(types.indexOf("lost")).toBeLessThan(types.indexOf("requeued"));
    const rewound = events.find((e) => e.type === "rewound")!;
    expect(rewound.attempt).toBe(2);
    const resumedFrom = Number(/after step (\d+)/.exec(rewound.message ?? "")?.[1]);
    expect(resumedFrom).toBeGreaterThanOrEqual(storedStep);

    const logs = (await t.api.run.logs.query({ runId: done.runId!, limit: 10_000 })).map((l) => l.line);
    expect(logs.some((l) => l.includes(`downloaded checkpoint at step ${resumedFrom}`))).toBe(true);
    expect(logs.some((l) => l.includes(`resumed from checkpoint at step ${resumedFrom}`))).toBe(true);

    // the run's charts continue: one point per logged step, no fork, and the model trained
    const loss = await t.api.metric.series.query({ runId: done.runId!, key: "train/loss", maxPoints: 100_000 });
    const steps = loss.steps;
    expect(steps.every((s, i) => i === 0 || s > steps[i - 1]!)).toBe(true);
    const totalSteps = Math.ceil(12000 / 32) * 3;
    expect(steps.at(-1)).toBe(Math.floor(totalSteps / 5) * 5);
    const want = Array.from({ length: Math.floor(totalSteps / 5) }, (_, i) => (i + 1) * 5);
    expect(
      want.filter((s) => !steps.includes(s)),
      `missing steps (resumed after ${resumedFrom})`,
    ).toEqual([]);
    const acc = await t.api.metric.series.query({ runId: done.runId!, key: "test/accuracy" });
    expect(acc.steps.length).toBe(3);
    expect(acc.values.at(-1)).toBeGreaterThan(0.8);
    const run = await t.api.run.get.query({ runId: done.runId! });
    expect(run.status).toBe("finished");
  });

  it("cancels a running job within 5 s", { timeout: 90_000 }, async () => {
    const tok = await t.api.runner.createToken.mutate({ name: "host-c" });
    const c = new RunnerDaemon({
      server: t.server.url,
      token: tok.token,
      name: "host-c",
      slots: 1,
      home: home(),
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    daemons.push(c);
    await c.start();
    const { jobId } = await t.api.job.submit.mutate({ projectId: "resume", spec: { ...SPEC, epochs: 50 } });
    const job = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        if (j.status !== "running" || !j.runId) return null;
        // training in earnest (past data loading): it has checkpointed
        return (await t.api.job.events.query({ jobId })).some((e) => e.type === "checkpoint") ? j : null;
      },
      60_000,
      "the job to be training",
    );
    const t0 = Date.now();
    await t.api.job.cancel.mutate({ jobId });
    const cancelled = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return j.status === "cancelled" ? j : null;
      },
      10_000,
      "the job to be cancelled",
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(cancelled.attemptHistory.at(-1)?.status).toBe("cancelled");
    expect((await t.api.run.get.query({ runId: job.runId! })).status).toBe("aborted");
  });
});
