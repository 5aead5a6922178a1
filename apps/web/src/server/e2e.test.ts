// The whole path, end to end: real server on a random port, a real runner daemon with the
// process executor, a short real training job submitted through tRPC, live points at a
// socket.io subscriber, and the finished run's stored metrics. Once on SQLite, once on PostgreSQL.
import { type LivePointsEvent, PROTOCOL_VERSION } from "@heron/core";
import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, emitMalformed, postgresAvailable, type Provider, startTestServer, type TestServer, waitFor } from "../testing/harness";

const SHORT_JOB = {
  kind: "train",
  dataset: "mnist",
  model: "mlp-mnist",
  epochs: 2,
  batchSize: 64,
  lr: 0.002,
  maxTrainSamples: 3000,
  maxTestSamples: 500,
  seed: 1,
  logEvery: 5,
};
const pgUp = await postgresAvailable();

describe.each<Provider>(["sqlite", "postgres"])("end to end on %s", (provider) => {
  const skip = provider === "postgres" && !pgUp;
  let t: TestServer;
  let runner: RunnerDaemon;

  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer(provider);
    const { token } = await t.api.runner.createToken.mutate({ name: "e2e" });
    runner = new RunnerDaemon({
      server: t.server.url,
      token,
      name: "e2e",
      slots: 1,
      home: t.home,
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    await runner.start();
  });
  afterAll(async () => {
    if (skip) return;
    await runner?.stop();
    await t?.close();
  });

  it.skipIf(skip)("refuses requests without a valid key with 401", async () => {
    const res = await fetch(`${t.server.url}/api/trpc/project.list`);
    expect(res.status).toBe(401);
    const wrong = await fetch(`${t.server.url}/api/trpc/project.list`, { headers: { authorization: "Bearer hk_wrong" } });
    expect(wrong.status).toBe(401);
    await expect(createApi(t.server.url, null).project.list.query()).rejects.toThrow(/API key/);
    await expect(t.connect("hk_nope")).rejects.toThrow(/unauthorized/);
    const health = await (await fetch(`${t.server.url}/api/health`)).json();
    expect(health.ok).toBe(true);
  });

  it.skipIf(skip)("rejects bad input with errors that name the problem", async () => {
    await expect(t.api.job.submit.mutate({ projectId: "nope", spec: SHORT_JOB })).rejects.toThrow(/project "nope" not found/);
    await t.api.project.create.mutate({ name: "e2e" });
    await expect(t.api.job.submit.mutate({ projectId: "e2e", spec: { ...SHORT_JOB, model: "gpt-9" } })).rejects.toThrow(/model/);
    await expect(t.api.job.submit.mutate({ projectId: "e2e", spec: { ...SHORT_JOB, epochs: -1 } })).rejects.toThrow(/epochs/);
    await expect(t.api.job.submit.mutate({ projectId: "e2e", spec: { ...SHORT_JOB, batchSize: 0 } })).rejects.toThrow(/batchSize/);
    await expect(t.api.job.submit.mutate({ projectId: "e2e", spec: { ...SHORT_JOB, lr: "fast" } })).rejects.toThrow(/lr/);
    await expect(t.api.run.get.query({ runId: "missing" })).rejects.toThrow(/run "missing" not found/);
    await expect(t.api.job.get.query({ jobId: "missing" })).rejects.toThrow(/job "missing" not found/);
    const s = await t.connect();
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: "x", seq: 1, points: [] })).toEqual({ ok: false, error: 'run "x" not found' });
    const init = await s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "e2e", name: "bad-input" });
    const runId = init.ok ? init.runId : "";
    const ack = await emitMalformed(s, "run:log", { v: PROTOCOL_VERSION, runId, seq: "one", points: [] });
    expect(ack).toEqual({ ok: false, error: expect.stringMatching(/seq/) });
    expect((await t.api.job.list.query({ projectId: "e2e" })).length).toBe(0);
  });

  it.skipIf(skip)("runs a submitted job, streams its points live, and stores the finished run", async () => {
    const { jobId } = await t.api.job.submit.mutate({ projectId: "e2e", spec: SHORT_JOB });
    const job = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return j.runId ? j : null;
      },
      30_000,
      "the job to be claimed",
    );
    const sub = await t.connect();
    const live: LivePointsEvent["points"] = [];
    sub.on("points", (e) => e.runId === job.runId && live.push(...e.points));
    await sub.emitWithAck("subscribe", { v: PROTOCOL_VERSION, runId: job.runId! });

    const done = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      150_000,
      "the job to finish",
    );
    expect(done.error ?? "").toBe("");
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toBe(1);
    // points arrived at the subscriber while the job ran
    expect(live.some((p) => p.key === "train/loss")).toBe(true);

    const run = await t.api.run.get.query({ runId: job.runId! });
    expect(run.status).toBe("finished");
    expect(run.keys).toEqual(expect.arrayContaining(["train/loss", "test/accuracy", "test/loss"]));
    const acc = await t.api.metric.series.query({ runId: job.runId!, key: "test/accuracy" });
    expect(acc.steps.length).toBe(2); // one per epoch
    expect(acc.values.at(-1)).toBeGreaterThan(0.8);
    const loss = await t.api.metric.series.query({ runId: job.runId!, key: "train/loss", maxPoints: 100_000 });
    expect(loss.values.length).toBeGreaterThan(10);
    expect(live.filter((p) => p.key === "train/loss").length).toBeLessThanOrEqual(loss.values.length);
    const runs = await t.api.run.list.query({ projectId: "e2e" });
    expect(runs[0]!.metrics["test/accuracy"]!.last).toBeCloseTo(acc.values.at(-1)!, 10);
    const logs = await t.api.run.logs.query({ runId: job.runId! });
    expect(logs.some((l) => l.line.includes(jobId))).toBe(true);
  });
});
