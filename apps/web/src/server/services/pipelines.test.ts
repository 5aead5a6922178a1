// Pipelines with in-process runners and a fake stage executor (the ML is not the point here):
// stages run one after another, each as its own job and run in the pipeline's group, and a
// stage starts from the checkpoint its predecessor stored on the server; a failed stage fails
// the pipeline with its reason and the later stages never run; cancelling the pipeline (or
// one of its stages) cancels what is left; bad pipeline specs are refused with clear messages;
// job.checkpoints lists a stage's checkpoints with their tensor names.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../testing/harness";
import { FAIL_LR, HOLD_LR, type SeenStage, stageExecutor } from "../../testing/stage-executor";

const TRAIN = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 } as const;
const ENDED = ["succeeded", "failed", "cancelled"];

describe("pipelines", () => {
  let t: TestServer;
  const homes: string[] = [];
  const daemons: RunnerDaemon[] = [];
  const seen: SeenStage[] = [];
  const done = (jobId: string) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ENDED.includes(j.status) ? j : null;
      },
      60_000,
      `pipeline ${jobId} to end`,
    );
  beforeAll(async () => {
    t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: 5 });
    await t.api.project.create.mutate({ name: "pipe" });
    for (const name of ["a", "b"]) {
      const { token } = await t.api.runner.createToken.mutate({ name });
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-pipe-"));
      homes.push(home);
      const d = new RunnerDaemon({
        server: t.server.url,
        token,
        name,
        slots: 1,
        home,
        checkpointSyncMs: 200,
        executor: stageExecutor(home, seen),
        logger: pino({ level: "silent" }),
      });
      daemons.push(d);
      await d.start();
    }
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it(
    "runs a 2-stage pipeline with freeze patterns: one job and run per stage, the second starting from the first's checkpoint",
    { timeout: 90_000 },
    async () => {
      const spec = {
        kind: "pipeline",
        name: "two",
        stages: [
          { name: "encoder", spec: { ...TRAIN, train: ["**"] } },
          {
            name: "head",
            spec: { ...TRAIN, freeze: ["layer1.**"], checkpoint: { excludeFrozen: true } },
            init: { fromStage: "encoder", load: ["layer1.**"] },
          },
        ],
      };
      const submitted = await t.api.job.submit.mutate({ projectId: "pipe", spec });
      expect(submitted.jobIds).toHaveLength(3);
      const [pipelineId, s1, s2] = submitted.jobIds as [string, string, string];
      expect(submitted.jobId).toBe(pipelineId);

      const end = await done(pipelineId);
      expect(end.status).toBe("succeeded");
      expect(end.kind).toBe("pipeline");
      expect(end.spec).toEqual(expect.objectContaining({ kind: "pipeline", name: "two" }));
      expect(end.stages!.map((s) => [s.name, s.jobId, s.status])).toEqual([
        ["encoder", s1, "succeeded"],
        ["head", s2, "succeeded"],
      ]);

      // stage 2's job: the server filled in where it starts from
      const head = await t.api.job.get.query({ jobId: s2 });
      expect(head.spec).toMatchObject({ freeze: ["layer1.**"], init: { fromStage: "encoder", load: ["layer1.**"], jobId: s1, sources: [s1] } });
      expect(head.pipelineJobId).toBe(pipelineId);
      expect(head.stageName).toBe("head");

      // it waited for stage 1, and its runner had stage 1's checkpoint when it started
      const e1 = await t.api.job.get.query({ jobId: s1 });
      const run2 = seen.find((x) => x.jobId === s2)!;
      expect(run2.startedAt).toBeGreaterThanOrEqual(e1.finishedAt!.getTime());
      expect(run2.sourceSteps[s1]).toEqual(["ckpt-000000010"]);
      const events2 = (await t.api.job.events.query({ jobId: s2 })).map((e) => e.type);
      expect(events2.slice(0, 2)).toEqual(["waiting", "queued"]);

      // one run per stage, in the pipeline's group, named by stage
      const runs = await t.api.run.list.query({ projectId: "pipe" });
      const mine = runs.filter((r) => r.id === e1.runId || r.id === head.runId);
      expect(mine).toHaveLength(2);
      expect(new Set(mine.map((r) => r.group))).toEqual(new Set([end.group]));
      expect(mine.map((r) => r.name.split("-")[0]).sort()).toEqual(["encoder", "head"]);

      // the jobs table lists the pipeline once, with its stages
      const listed = await t.api.job.list.query({ projectId: "pipe" });
      expect(listed.filter((j) => [s1, s2].includes(j.id))).toEqual([]);
      expect(listed.find((j) => j.id === pipelineId)?.stages?.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);

      // the checkpoints, with tensor names and the frozen tensors left out of stage 2's
      const c1 = await t.api.job.checkpoints.query({ jobId: s1 });
      expect(c1).toHaveLength(1);
      expect(c1[0]).toMatchObject({ step: 10, tensors: ["layer1.weight", "layer2.weight"], excludedFrozen: [] });
      expect(c1[0]!.files.map((f) => f.name).sort()).toEqual(["manifest.json", "meta.json", "tensors.bin"]);
      expect(c1[0]!.bytes).toBe(c1[0]!.files.reduce((n, f) => n + f.bytes, 0));
      const c2 = await t.api.job.checkpoints.query({ jobId: s2 });
      expect(c2[0]!.excludedFrozen).toEqual([{ name: "layer1.weight", jobId: s1, step: 10 }]);
      expect(c2[0]!.bytes).toBeLessThan(c1[0]!.bytes);
    },
  );

  it("a failed stage fails the pipeline with its reason; the stages after it never run", { timeout: 90_000 }, async () => {
    const spec = {
      kind: "pipeline",
      stages: [
        { name: "first", spec: TRAIN },
        { name: "pretrain", spec: { ...TRAIN, lr: FAIL_LR }, init: { fromStage: "first" } },
        { name: "sft", spec: TRAIN, init: { fromStage: "pretrain" } },
      ],
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "pipe", spec });
    const end = await done(jobIds[0]!);
    expect(end.status).toBe("failed");
    expect(end.error).toMatch(/^stage pretrain failed: exit code 1/);
    expect(end.error).toMatch(/boom: the loss went to NaN/);
    expect(end.stages!.map((s) => [s.name, s.status])).toEqual([
      ["first", "succeeded"],
      ["pretrain", "failed"],
      ["sft", "cancelled"],
    ]);
    const sft = await t.api.job.get.query({ jobId: jobIds[3]! });
    expect(sft.attempts).toBe(0);
    expect(sft.runId).toBeNull();
    expect(seen.some((x) => x.jobId === jobIds[3])).toBe(false);
  });

  it("cancelling the pipeline stops the running stage and the waiting ones never start", { timeout: 90_000 }, async () => {
    const spec = {
      kind: "pipeline",
      stages: [
        { name: "long", spec: { ...TRAIN, lr: HOLD_LR } },
        { name: "after", spec: TRAIN, init: { fromStage: "long" } },
      ],
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "pipe", spec });
    const [pipelineId, long, after] = jobIds as [string, string, string];
    await waitFor(async () => (await t.api.job.get.query({ jobId: pipelineId })).status === "running", 30_000, "the pipeline to run");
    await t.api.job.cancel.mutate({ jobId: pipelineId });
    const end = await done(pipelineId);
    expect(end.status).toBe("cancelled");
    await waitFor(async () => (await t.api.job.get.query({ jobId: long })).status === "cancelled", 30_000, "the running stage to be cancelled");
    const a = await t.api.job.get.query({ jobId: after });
    expect([a.status, a.attempts, a.runId]).toEqual(["cancelled", 0, null]);
    await expect(t.api.job.retry.mutate({ jobId: pipelineId })).rejects.toThrow(/submit the pipeline again/);
  });

  it("cancelling one stage cancels its pipeline", { timeout: 90_000 }, async () => {
    const spec = {
      kind: "pipeline",
      stages: [
        { name: "one", spec: { ...TRAIN, lr: HOLD_LR } },
        { name: "two", spec: TRAIN },
      ],
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "pipe", spec });
    await waitFor(async () => (await t.api.job.get.query({ jobId: jobIds[1]! })).status === "running", 30_000, "stage one to run");
    await t.api.job.cancel.mutate({ jobId: jobIds[1]! });
    const end = await done(jobIds[0]!);
    expect(end.status).toBe("cancelled");
    await waitFor(async () => (await t.api.job.get.query({ jobId: jobIds[1]! })).status === "cancelled", 30_000, "stage one to stop");
    expect((await t.api.job.get.query({ jobId: jobIds[2]! })).status).toBe("cancelled");
  });

  it("refuses bad pipeline specs with clear messages", async () => {
    const refused = async (spec: unknown) => {
      const err: unknown = await t.api.job.submit.mutate({ projectId: "pipe", spec }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      return (err as Error).message;
    };
    const s = (name: string, extra: object = {}) => ({ name, spec: TRAIN, ...extra });
    expect(await refused({ kind: "pipeline", stages: [] })).toMatch(/stages: a pipeline needs at least one stage/);
    expect(await refused({ kind: "pipeline", stages: [s("a"), s("a")] })).toMatch(/stages\.1\.name: stage name "a" is used twice/);
    expect(await refused({ kind: "pipeline", stages: [s("a", { init: { fromStage: "b" } }), s("b")] })).toMatch(
      /stages\.0\.init\.fromStage: stage "a" starts from stage "b", which is not an earlier stage/,
    );
    expect(await refused({ kind: "pipeline", stages: [s("a"), s("b", { init: { fromStage: "nope" } })] })).toMatch(/the pipeline has no stage of that name/);
    expect(await refused({ kind: "pipeline", stages: [s("a", { init: { fromStage: "a" } })] })).toMatch(/not an earlier stage/);
    expect(await refused({ kind: "pipeline", stages: [{ name: "inner", spec: { kind: "pipeline", stages: [s("x")] } }] })).toMatch(
      /stages\.0\.spec\.kind: a pipeline cannot be a stage of another pipeline/,
    );
    expect(await refused({ kind: "pipeline", stages: Array.from({ length: 17 }, (_, i) => s(`s${i}`)) })).toMatch(/at most 16 stages/);
    expect(await refused({ kind: "pipeline", stages: [s("a"), { name: "b", spec: { ...TRAIN, init: { jobId: "someone-elses" } } }] })).toMatch(
      /init\.jobId and init\.sources are filled in by the server/,
    );
    // a single job cannot point at another job's checkpoint by itself
    expect(await refused({ ...TRAIN, init: { sources: ["x"] } })).toMatch(/belong to the stages of a pipeline/);
  });
});
