// Distillation through the product: a teacher trained by a real job, then ONE job.submit of
// a distillation spec with four methods → four jobs/runs in one group on a real runner, and
// run.compareTable shows the teacher and one row per method. Fashion-MNIST, small sample counts.
import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../testing/harness";

const TEACHER = {
  kind: "train",
  dataset: "fashion-mnist",
  model: "deep-cnn",
  epochs: 1,
  batchSize: 64,
  lr: 0.001,
  maxTrainSamples: 640,
  maxTestSamples: 300,
  seed: 1,
  logEvery: 5,
};
const DISTILL = {
  kind: "distill",
  student: "light-cnn",
  methods: ["ce", "kd", "cosine", "regressor"],
  dataset: "fashion-mnist",
  epochs: 1,
  batchSize: 32,
  lr: 0.001,
  maxTrainSamples: 256,
  maxTestSamples: 300,
  seed: 1,
  logEvery: 2,
};

describe("distillation group end to end (sqlite)", () => {
  let t: TestServer;
  let runner: RunnerDaemon;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
    const { token } = await t.api.runner.createToken.mutate({ name: "distill" });
    runner = new RunnerDaemon({
      server: t.server.url,
      token,
      name: "distill",
      slots: 2,
      home: t.home,
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    await runner.start();
    await t.api.project.create.mutate({ name: "kd" });
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.close();
  });

  const finished = (jobId: string, ms: number) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      ms,
      `job ${jobId} to finish`,
    );

  it("one submit launches one run per method; the comparison table shows teacher and students", async () => {
    const { jobId: teacherJob } = await t.api.job.submit.mutate({ projectId: "kd", spec: TEACHER });
    const claimed = await waitFor(async () => (await t.api.job.get.query({ jobId: teacherJob })).runId, 30_000, "the teacher job to start");
    // refused at submit, each with its reason
    await expect(t.api.job.submit.mutate({ projectId: "kd", spec: { ...DISTILL, teacher: { runId: "nope" } } })).rejects.toThrow(
      /teacher: run "nope" not found/,
    );
    await expect(t.api.job.submit.mutate({ projectId: "kd", spec: { ...DISTILL, teacher: { runId: claimed } } })).rejects.toThrow(/not finished/);
    await expect(t.api.job.submit.mutate({ projectId: "kd", spec: { ...DISTILL, student: "mlp-mnist", teacher: { runId: claimed } } })).rejects.toThrow(
      /regressor needs a convolutional student/,
    );
    await expect(t.api.job.submit.mutate({ projectId: "kd", spec: { ...DISTILL, methods: ["ce", "magic"], teacher: { runId: claimed } } })).rejects.toThrow(
      /methods.1: method must be one of/,
    );

    const t0 = Date.now();
    const tj = await finished(teacherJob, 200_000);
    console.log(`teacher job: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(tj.error ?? "").toBe("");
    expect(tj.status).toBe("succeeded");

    const res = await t.api.job.submit.mutate({ projectId: "kd", spec: { ...DISTILL, teacher: { runId: tj.runId! } } });
    expect(res.jobIds).toHaveLength(4);
    expect(res.group).toBeTruthy();
    const t1 = Date.now();
    const jobs = await Promise.all(res.jobIds.map((id) => finished(id, 240_000)));
    console.log(`4 distillation jobs: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    for (const j of jobs) {
      expect(j.error ?? "").toBe("");
      expect(j.status).toBe("succeeded");
      expect(j.group).toBe(res.group);
    }
    const runIds = jobs.map((j) => j.runId!);
    const kdRun = await t.api.run.get.query({ runId: runIds[1]! });
    expect(kdRun.keys).toEqual(expect.arrayContaining(["train/loss", "loss/ce", "loss/soft", "train/grad_norm", "test/accuracy"]));
    const cosRun = await t.api.run.get.query({ runId: runIds[2]! });
    expect(cosRun.keys).toEqual(expect.arrayContaining(["loss/hidden", "loss/ce"]));

    const table = await t.api.run.compareTable.query({ group: res.group! });
    console.log(JSON.stringify(table, null, 1));
    expect(table.rows.map((r) => r.method)).toEqual(["ce", "kd", "cosine", "regressor"]);
    expect(table.teacher).toMatchObject({ runId: tj.runId, params: 938_922 });
    for (const r of table.rows) {
      expect(r.model).toBe("light-cnn");
      expect(r.params).toBe(206_010);
      expect(r.accuracy).toBeGreaterThan(0.3);
    }
    expect(table.rows[3]!.trainableParams).toBe(206_010 + 9 * 16 * 32 + 32);
    // with a fixed seed, the teacher (bigger, more data) beats the student trained alone
    expect(table.teacher!.accuracy!).toBeGreaterThan(table.rows[0]!.accuracy!);
    // the same table by run ids
    const byIds = await t.api.run.compareTable.query({ runIds });
    expect(byIds.rows).toHaveLength(4);
    await expect(t.api.run.compareTable.query({ group: "no-such-group" })).rejects.toThrow(/no runs in group/);
  }, 480_000);
});
