// run.fork with real training jobs (child processes, tfjs): the child starts from the parent's
// stored checkpoint at or before the asked step, on a runner whose HERON_HOME never saw the
// parent, with the override in its spec; its charts hold the parent's points up to the fork
// step (read from the parent) and its own after; bad forks are refused with a reason.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../testing/harness";

const SPEC = {
  kind: "train",
  dataset: "mnist",
  model: "mlp-mnist",
  epochs: 2,
  batchSize: 32,
  lr: 0.01,
  maxTrainSamples: 640,
  maxTestSamples: 200,
  seed: 3,
  logEvery: 1,
  checkpointEvery: 5,
};

describe("run.fork", () => {
  let t: TestServer;
  const homes: string[] = [];
  const daemons: RunnerDaemon[] = [];
  async function startRunner(name: string) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-fork-"));
    homes.push(home);
    const { token } = await t.api.runner.createToken.mutate({ name });
    const d = new RunnerDaemon({
      checkpointSyncMs: 100,
      server: t.server.url,
      token,
      name,
      slots: 1,
      home,
      executor: createProcessExecutor(),
      logger: pino({ level: "warn" }),
    });
    daemons.push(d);
    await d.start();
    return d;
  }
  const finished = (jobId: string) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      150_000,
      `job ${jobId} to finish`,
    );

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "fork" });
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("continues a finished job from its checkpoint at or before the step, with the override, on another host", { timeout: 300_000 }, async () => {
    const a = await startRunner("host-a");
    const { jobId } = await t.api.job.submit.mutate({ projectId: "fork", spec: SPEC });
    const parentJob = await finished(jobId);
    expect(parentJob.error ?? "").toBe("");
    expect(parentJob.status).toBe("succeeded");
    const parentRunId = parentJob.runId!;
    await a.stop();

    // host B never saw the parent: the child's checkpoint must come from the server
    await startRunner("host-b");
    const asked = 27;
    const fork = await t.api.run.fork.mutate({ runId: parentRunId, step: asked, overrides: { lr: 0.001 } });
    expect(fork.step).toBeLessThanOrEqual(asked);
    expect(fork.step).toBeGreaterThan(0);
    const child = await finished(fork.jobId);
    expect(child.error ?? "").toBe("");
    expect(child.status).toBe("succeeded");
    expect(child.runId).toBe(fork.runId);
    expect(child.spec).toMatchObject({ ...SPEC, lr: 0.001 });

    const logs = (await t.api.run.logs.query({ runId: fork.runId, limit: 10_000 })).map((l) => l.line);
    expect(logs.some((l) => l.includes(`downloaded checkpoint at step ${fork.step}`))).toBe(true);
    expect(logs.some((l) => l.includes(`resumed from checkpoint at step ${fork.step}`))).toBe(true);

    // the child's own points start right after the fork step …
    const own = await t.server.services.metrics.series({ runId: fork.runId, key: "train/loss", maxPoints: 100_000 });
    expect(own.steps[0]).toBe(fork.step + 1);
    expect(own.steps.at(-1)).toBe(40);
    // … and its chart shows the parent's history up to the fork step, then its own
    const parent = await t.api.metric.series.query({ runId: parentRunId, key: "train/loss", maxPoints: 100_000 });
    const shown = await t.api.metric.series.query({ runId: fork.runId, key: "train/loss", maxPoints: 100_000 });
    const upTo = parent.steps.filter((s) => s <= fork.step).length;
    expect(shown.steps).toEqual([...parent.steps.slice(0, upTo), ...own.steps]);
    expect(shown.values.slice(0, upTo)).toEqual(parent.values.slice(0, upTo));
    // the lower learning rate changed the path after the fork
    expect(shown.values.slice(upTo)).not.toEqual(parent.values.slice(upTo));
    // bucketed, too: one answer over the joined range
    const coarse = await t.api.metric.series.query({ runId: fork.runId, key: "train/loss", maxPoints: 8 });
    expect(coarse.bucketed).toBe(true);
    expect(coarse.counts!.reduce((n, c) => n + c, 0)).toBe(shown.steps.length);

    const run = await t.server.services.prisma.run.findUniqueOrThrow({ where: { id: fork.runId } });
    expect(run).toMatchObject({ forkedFromRunId: parentRunId, forkStep: fork.step });
    const lineage = await t.api.lineage.get.query({ runId: fork.runId });
    expect(lineage.edges).toContainEqual({ from: `run:${parentRunId}`, to: `run:${fork.runId}`, type: "fork" });
  });

  it("refuses forks of unknown runs, script runs, steps beyond the run and overrides that break the checkpoint", { timeout: 60_000 }, async () => {
    await expect(t.api.run.fork.mutate({ runId: "no-such-run", step: 1 })).rejects.toThrow(/run "no-such-run" not found/);
    const socket = await t.connect();
    const init = await socket.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "fork", name: "script" });
    if (!init.ok) throw new Error(init.error);
    await socket.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: init.runId,
      seq: 1,
      writer: "0",
      points: [{ key: "loss", step: 3, value: 1, ts: Date.now() }],
    });
    socket.disconnect();
    await expect(t.api.run.fork.mutate({ runId: init.runId, step: 1 })).rejects.toThrow(/logged by a script, not a Heron job: only job runs can be forked/);

    const parent = (await t.api.run.list.query({ projectId: "fork" })).find((r) => r.jobId && !r.name.includes("-fork-"))!;
    await expect(t.api.run.fork.mutate({ runId: parent.id, step: 10_000 })).rejects.toThrow(/step 10000 is beyond run .*, whose last step is 40/);
    await expect(t.api.run.fork.mutate({ runId: parent.id, step: 30, overrides: { model: "light-cnn" } })).rejects.toThrow(/"model" cannot change in a fork/);
    await expect(t.api.run.fork.mutate({ runId: parent.id, step: 30, overrides: { lr: -1 } })).rejects.toThrow(/forked spec is invalid: lr: lr must be > 0/);
    await expect(t.api.run.fork.mutate({ runId: parent.id, step: 2 })).rejects.toThrow(/no checkpoint at or before step 2 \(it keeps steps \d+/);
  });
});
