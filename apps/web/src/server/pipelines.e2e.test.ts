// Real pipeline stages (job child processes, tfjs): a runner host SIGKILLed in the middle of a
// stage whose checkpoints leave the frozen layer out → the stage resumes on ANOTHER runner
// (empty HERON_HOME: it fetches its own checkpoint AND the earlier stage's that holds the
// frozen tensors) and the pipeline completes; and the `vlm` recipe, kept small, runs its
// three stages to succeeded with the encoder's test/accuracy and the SFT stage's vqa/accuracy,
// the encoder on one runner and the later stages on another with its own HERON_HOME (the
// encoder's checkpoint reaches it through the server); and a train → distill → LoRA fine-tune
// pipeline whose teacher, student init and base are the earlier stages.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createProcessExecutor, RunnerDaemon, type RunnerProcess, spawnRunner } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../testing/harness";

// the killed host's lease expires quickly; a live runner on a loaded 2-core machine still never misses one
const TTL_S = 5;
const BASE = { kind: "train", dataset: "synthetic", model: "mlp-mnist", batchSize: 32, lr: 0.01, seed: 5, logEvery: 5, maxTestSamples: 200 };
const ENDED = ["succeeded", "failed", "cancelled"];

describe("pipelines with real jobs", () => {
  let t: TestServer;
  const homes: string[] = [];
  const procs: RunnerProcess[] = [];
  const daemons: RunnerDaemon[] = [];
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "heron-runner-"));
    homes.push(h);
    return h;
  };
  const ended = (jobId: string, ms: number) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ENDED.includes(j.status) ? j : null;
      },
      ms,
      `job ${jobId} to end`,
    );
  const startDaemon = async (name: string, extra: { allowCommands?: boolean } = {}) => {
    const tok = await t.api.runner.createToken.mutate({ name });
    const d = new RunnerDaemon({
      ...extra,
      checkpointSyncMs: 500,
      server: t.server.url,
      token: tok.token,
      name,
      slots: 1,
      home: home(),
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    daemons.push(d);
    await d.start();
    return d;
  };
  beforeAll(async () => {
    t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: TTL_S });
    await t.api.project.create.mutate({ name: "stages" });
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("resumes a stage whose runner was killed on another runner, and the pipeline completes", { timeout: 300_000 }, async () => {
    const first = await t.api.runner.createToken.mutate({ name: "host-a" });
    const a = spawnRunner({ server: t.server.url, token: first.token, name: "host-a", home: home() });
    procs.push(a);
    await a.registered;
    const spec = {
      kind: "pipeline",
      name: "kill",
      stages: [
        { name: "base", spec: { ...BASE, model: "light-cnn", epochs: 1 } },
        {
          // ~500 light-cnn steps: seconds of work left after the first stored checkpoint even
          // on a fast host (an mlp's 1,000 steps once finished between that checkpoint and the kill)
          name: "head",
          spec: { ...BASE, model: "light-cnn", epochs: 30, checkpointEvery: 25, freeze: ["features.0.**"] },
          init: { fromStage: "base" },
        },
      ],
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "stages", spec });
    const [pipelineId, baseJob, headJob] = jobIds as [string, string, string];

    // kill host A once stage 2 has stored a checkpoint on the server, before it ends
    await waitFor(
      async () => {
        const p = await t.api.job.get.query({ jobId: pipelineId });
        if (ENDED.includes(p.status)) throw new Error(`pipeline ${p.status} before the kill: ${p.error ?? ""}`);
        return (await t.api.job.events.query({ jobId: headJob })).some((e) => e.type === "checkpoint");
      },
      180_000,
      "a stage-2 checkpoint",
    );
    a.child.kill("SIGKILL");
    const killed = await t.api.job.get.query({ jobId: headJob });
    expect(killed.status).toBe("running");
    expect((await t.api.job.get.query({ jobId: pipelineId })).status).toBe("running");

    await startDaemon("host-b");
    const done = await ended(pipelineId, 240_000);
    expect(done.error ?? "").toBe("");
    expect(done.status).toBe("succeeded");
    expect(done.stages!.map((s) => [s.name, s.status])).toEqual([
      ["base", "succeeded"],
      ["head", "succeeded"],
    ]);
    const head = await t.api.job.get.query({ jobId: headJob });
    expect(head.attemptHistory.map((x) => [x.attempt, x.runnerName, x.status])).toEqual([
      [1, "host-a", "lost"],
      [2, "host-b", "succeeded"],
    ]);
    expect(head.runId).toBe(killed.runId);
    const rewound = (await t.api.job.events.query({ jobId: headJob })).find((e) => e.type === "rewound");
    expect(rewound?.attempt).toBe(2);

    // host B fetched the stage's own checkpoint and the base stage's, which keeps the frozen layer
    const logs = (await t.api.run.logs.query({ runId: head.runId!, limit: 10_000 })).map((l) => l.line).join("\n");
    expect(logs).toMatch(/downloaded checkpoint at step \d+ from the server/);
    expect(logs).toMatch(new RegExp(`stage checkpoint: downloaded step \\d+ of stage job ${baseJob}`));
    expect(logs).toMatch(/resumed from checkpoint at step \d+/);

    // stage 2's checkpoints leave the frozen layer out and point at the base stage's
    const [baseCk] = (await t.api.job.checkpoints.query({ jobId: baseJob })).slice(-1);
    const [headCk] = (await t.api.job.checkpoints.query({ jobId: headJob })).slice(-1);
    expect(baseCk!.tensors).toEqual(expect.arrayContaining(["features.0.weight", "features.0.bias", "classifier.3.weight", "classifier.3.bias"]));
    expect([...headCk!.tensors!].sort()).toEqual([...baseCk!.tensors!].sort());
    expect(headCk!.excludedFrozen!.map((x) => [x.name, x.jobId, x.step]).sort()).toEqual([
      ["features.0.bias", baseJob, baseCk!.step],
      ["features.0.weight", baseJob, baseCk!.step],
    ]);
    expect(headCk!.bytes).toBeLessThan(baseCk!.bytes);
    const acc = await t.api.metric.series.query({ runId: head.runId!, key: "test/accuracy" });
    expect(acc.steps).toHaveLength(30);
  });

  it("runs the vlm recipe's three stages to succeeded, a later stage on another runner than the stage it loads", { timeout: 600_000 }, async () => {
    // Placement without timing races: host-1 (the only runner) trains the encoder; while it
    // does, a higher-priority command job that only host-1 may run (--allow-commands) waits in
    // the queue, so when the encoder succeeds host-1 takes that job, not the pretrain stage;
    // host-2 (its own HERON_HOME) starts only then and runs pretrain and sft.
    for (const d of daemons.splice(0)) await d.stop();
    await startDaemon("vlm-host-1", { allowCommands: true });
    const spec = {
      kind: "vlm",
      dataset: "fashion-mnist",
      maxTrainSamples: 600,
      maxTestSamples: 100,
      seed: 1,
      encoderStage: { epochs: 1 },
      pretrainStage: { epochs: 1 },
      sftStage: { epochs: 1 },
      samples: 2,
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "stages", spec });
    expect(jobIds).toHaveLength(4);
    const [pipelineId, encJob, pretrainJob] = jobIds as [string, string, string, string];
    await waitFor(async () => (await t.api.job.get.query({ jobId: encJob })).status === "running", 120_000, "the encoder stage to start");
    const blocker = await t.api.job.submit.mutate({ projectId: "stages", spec: { kind: "command", command: ["sleep", "600"] }, priority: 10 });
    try {
      // queued while the encoder still trains (its child process has seconds of work left), so
      // host-1's next claim sees both and takes the higher priority
      expect((await t.api.job.get.query({ jobId: encJob })).status, "the encoder stage ended before the command job was queued").toBe("running");
      await waitFor(
        async () => {
          const j = await t.api.job.get.query({ jobId: encJob });
          if (["failed", "cancelled"].includes(j.status)) throw new Error(`encoder stage ${j.status}: ${j.error ?? ""}`);
          return j.status === "succeeded";
        },
        300_000,
        "the encoder stage to succeed",
      );
      await waitFor(async () => (await t.api.job.get.query({ jobId: blocker.jobId })).status === "running", 60_000, "host-1 to take the command job");
      await startDaemon("vlm-host-2");
      const done = await ended(pipelineId, 540_000);
      expect(done.error ?? "").toBe("");
      expect(done.status).toBe("succeeded");
      expect(done.spec).toMatchObject({ kind: "vlm", dataset: "fashion-mnist" });
      expect(done.stages!.map((s) => [s.name, s.kind, s.status])).toEqual([
        ["encoder", "vlm-stage", "succeeded"],
        ["pretrain", "vlm-stage", "succeeded"],
        ["sft", "vlm-stage", "succeeded"],
      ]);
      const [enc, , sft] = done.stages!;
      const summaries = await t.api.metric.summaries.query({ runIds: [enc!.runId!, sft!.runId!] });
      expect(summaries[enc!.runId!]?.["test/accuracy"]?.last).toEqual(expect.any(Number));
      expect(summaries[sft!.runId!]?.["vqa/accuracy"]?.last).toEqual(expect.any(Number));
      // the later stages' checkpoints hold no encoder tensor: they point at the encoder stage's
      const [sftCk] = (await t.api.job.checkpoints.query({ jobId: sft!.jobId })).slice(-1);
      expect(sftCk!.excludedFrozen!.length).toBeGreaterThan(0);
      expect(sftCk!.excludedFrozen!.every((x) => x.name.startsWith("encoder.") && x.jobId === enc!.jobId)).toBe(true);

      // the checkpoint travelled through the server: host-2 never saw host-1's folder
      const runnerOf = async (jobId: string) => (await t.api.job.get.query({ jobId })).attemptHistory.map((a) => [a.runnerName, a.status]);
      expect(await runnerOf(encJob)).toEqual([["vlm-host-1", "succeeded"]]);
      expect(await runnerOf(pretrainJob)).toEqual([["vlm-host-2", "succeeded"]]);
      const logs = (await t.api.run.logs.query({ runId: done.stages![1]!.runId!, limit: 10_000 })).map((l) => l.line).join("\n");
      expect(logs).toMatch(new RegExp(`stage checkpoint: downloaded step \\d+ of stage job ${encJob} from the server`));
    } finally {
      await t.api.job.cancel.mutate({ jobId: blocker.jobId }).catch(() => undefined);
    }
  });

  it("runs a train → distill → LoRA fine-tune pipeline, each stage starting from the one before", { timeout: 300_000 }, async () => {
    if (!daemons.length) await startDaemon("host-ft");
    const data = { dataset: "synthetic", batchSize: 32, lr: 0.01, seed: 5, logEvery: 5, maxTrainSamples: 256, maxTestSamples: 100 };
    const spec = {
      kind: "pipeline",
      name: "distill-ft",
      stages: [
        { name: "teacher", spec: { kind: "train", model: "mlp-mnist", epochs: 1, ...data } },
        // the student starts from the teacher's first layer and learns from its logits
        {
          name: "student",
          spec: { kind: "distill", teacher: { fromStage: "teacher" }, student: "mlp-mnist", methods: ["kd"], epochs: 1, ...data },
          init: { fromStage: "teacher", load: ["layer1.*"] },
        },
        {
          name: "tuned",
          spec: { kind: "finetune", task: "image", base: { fromStage: "student" }, method: "lora", lora: { r: 4, targets: ["layer2"] }, epochs: 1, ...data },
        },
      ],
    };
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "stages", spec });
    const done = await ended(jobIds[0]!, 240_000);
    expect(done.error ?? "").toBe("");
    expect(done.stages!.map((s) => [s.name, s.kind, s.status])).toEqual([
      ["teacher", "train", "succeeded"],
      ["student", "distill", "succeeded"],
      ["tuned", "finetune", "succeeded"],
    ]);
    const [teacher, student, tuned] = done.stages!;
    const logs = async (runId: string) => (await t.api.run.logs.query({ runId, limit: 10_000 })).map((l) => l.line).join("\n");
    const studentLogs = await logs(student!.runId!);
    expect(studentLogs).toMatch(new RegExp(`teacher: mlp-mnist from stage teacher`));
    expect(studentLogs).toMatch(new RegExp(`init: 2 tensor\\(s\\), [\\d,]+ values from job ${teacher!.jobId}`));
    const summaries = await t.api.metric.summaries.query({ runIds: [tuned!.runId!] });
    expect(summaries[tuned!.runId!]?.["test/accuracy_before"]?.last).toEqual(expect.any(Number));
    expect(summaries[tuned!.runId!]?.["test/accuracy"]?.last).toEqual(expect.any(Number));
  });
});
