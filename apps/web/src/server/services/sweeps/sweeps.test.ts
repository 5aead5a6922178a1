// A random sweep with ASHA through the real server (SQLite) and two runner daemons whose jobs
// report an epoch metric: it finishes, prunes at least one trial (run status `pruned`), names
// the best completed trial, and every trial's run holds its params and the sweep id.
import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../../testing/harness";
import { createSweepExecutor } from "../../../testing/sweep-executor";

const SWEEP = {
  method: "random",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" }, batchSize: { values: [32, 64, 128] } },
  spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 6, batchSize: 32, lr: 0.01 },
  maxTrials: 8,
  parallel: 2,
  seed: 7,
  earlyTerminate: { type: "asha", minEpochs: 1, reductionFactor: 2, maxEpochs: 6 },
};

describe("sweeps through the server and two runners", () => {
  let t: TestServer;
  const daemons: RunnerDaemon[] = [];

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "tune" });
    for (const name of ["r1", "r2"]) {
      const { token } = await t.api.runner.createToken.mutate({ name });
      const d = new RunnerDaemon({
        server: t.server.url,
        token,
        name,
        slots: 1,
        home: t.home,
        executor: createSweepExecutor(),
        logger: pino({ level: "warn" }),
        killGraceMs: 2000,
      });
      await d.start();
      daemons.push(d);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await t?.close();
  });

  it("refuses a sweep whose trials would not be valid jobs, naming the field", async () => {
    const bad = { ...SWEEP, parameters: { lr: { min: 1, max: 20 } } };
    await expect(t.api.sweep.create.mutate({ projectId: "tune", sweep: bad })).rejects.toThrow(/lr/);
    await expect(t.api.sweep.create.mutate({ projectId: "tune", sweep: { ...SWEEP, parallel: 0 } })).rejects.toThrow(/parallel/);
  });

  it("runs 8 trials 2 at a time, prunes with ASHA and reports the best", { timeout: 90_000 }, async () => {
    const { sweepId } = await t.api.sweep.create.mutate({ projectId: "tune", sweep: SWEEP });
    let maxRunning = 0;
    const done = await waitFor(
      async () => {
        const s = await t.api.sweep.get.query({ sweepId });
        maxRunning = Math.max(maxRunning, s.trials.filter((x) => x.jobStatus === "running").length);
        return s.status === "finished" ? s : null;
      },
      80_000,
      "the sweep to finish",
    );
    expect(done.trials).toHaveLength(8);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(done.trials.map((x) => x.status).filter((s) => s !== "completed" && s !== "pruned")).toEqual([]);
    const pruned = done.trials.filter((x) => x.status === "pruned");
    expect(pruned.length).toBeGreaterThanOrEqual(1);
    const completed = done.trials.filter((x) => x.status === "completed");
    const bestMetric = Math.max(...completed.map((x) => x.metric as number));
    expect(done.best?.metric).toBe(bestMetric);
    expect(done.best?.runId).toBe(completed.find((x) => x.metric === bestMetric)?.runId);
    expect(new Set(done.trials.map((x) => x.runId)).size).toBe(8);
    for (const trial of done.trials) {
      const run = await t.api.run.get.query({ runId: trial.runId! });
      const config = run.config as { lr: number; batchSize: number; sweep: { id: string; params: Record<string, unknown> } };
      expect(config.sweep.id).toBe(sweepId);
      expect(config.sweep.params).toEqual(trial.params);
      expect({ lr: config.lr, batchSize: config.batchSize }).toEqual(trial.params);
      expect(run.status).toBe(trial.status === "pruned" ? "pruned" : "finished");
    }
    expect((await t.api.sweep.list.query({ projectId: "tune" })).find((s) => s.id === sweepId)?.trials.pruned).toBe(pruned.length);
  });

  it("pauses (no new trials), resumes, and cancels (running trials cancelled, finished ones kept)", { timeout: 60_000 }, async () => {
    const sweep = { ...SWEEP, method: "grid", maxTrials: undefined, earlyTerminate: undefined, parallel: 1, spec: { ...SWEEP.spec, epochs: 3 } };
    sweep.parameters = { lr: { values: [0.001, 0.01] }, batchSize: { values: [32, 64, 128] } } as never;
    const { sweepId } = await t.api.sweep.create.mutate({ projectId: "tune", sweep });
    await waitFor(async () => (await t.api.sweep.get.query({ sweepId })).trials.length === 1, 10_000, "the first trial");
    await t.api.sweep.pause.mutate({ sweepId });
    await waitFor(async () => (await t.api.sweep.get.query({ sweepId })).trials[0]?.status === "completed", 20_000, "the first trial to complete");
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.api.sweep.get.query({ sweepId })).trials).toHaveLength(1);
    await t.api.sweep.resume.mutate({ sweepId });
    await waitFor(async () => (await t.api.sweep.get.query({ sweepId })).trials[1]?.jobStatus === "running", 10_000, "the second trial to run");
    await t.api.sweep.cancel.mutate({ sweepId });
    const s = await waitFor(
      async () => {
        const g = await t.api.sweep.get.query({ sweepId });
        return g.trials.every((x) => x.status !== "running") ? g : null;
      },
      20_000,
      "the cancelled sweep's trials to end",
    );
    expect(s.status).toBe("cancelled");
    expect(s.trials.map((x) => x.status)).toEqual(["completed", "cancelled"]);
    await expect(t.api.sweep.resume.mutate({ sweepId })).rejects.toThrow(/cancelled/);
  });
});
