// Two server processes on one PostgreSQL (+ Redis) advance pipelines exactly once: stages of
// several pipelines end on runners connected to either server, and each next stage is queued
// once, runs once and starts only after its predecessor succeeded, on whichever runner
// claims it (its checkpoint comes through the shared database).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { postgresAvailable, redisAvailable, type ServerProcess, startServerProcesses, waitFor } from "../../testing/harness";
import { type SeenStage, stageExecutor } from "../../testing/stage-executor";

const TRAIN = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
const STAGES = 4;
const PIPELINES = 3;
const skip = !(await postgresAvailable()) || !(await redisAvailable());

describe.skipIf(skip)("pipelines on two server processes (PostgreSQL + Redis)", () => {
  let cluster: Awaited<ReturnType<typeof startServerProcesses>> | undefined;
  let servers: ServerProcess[] = [];
  const daemons: RunnerDaemon[] = [];
  const homes: string[] = [];
  const seen: SeenStage[] = [];

  beforeAll(async () => {
    cluster = await startServerProcesses(2);
    servers = cluster.servers;
    await servers[0]!.api.project.create.mutate({ name: "cross-pipe" });
    // two runners per server, so a stage's successor usually runs on another host than it
    for (let i = 0; i < 4; i++) {
      const server = servers[i % 2]!;
      const { token } = await server.api.runner.createToken.mutate({ name: `r${i}` });
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-xpipe-"));
      homes.push(home);
      const d = new RunnerDaemon({
        server: server.url,
        token,
        name: `r${i}`,
        slots: 1,
        home,
        checkpointSyncMs: 200,
        executor: stageExecutor(home, seen),
        logger: pino({ level: "silent" }),
      });
      daemons.push(d);
      await d.start();
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await cluster?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("queues each next stage exactly once and completes every pipeline", { timeout: 180_000 }, async () => {
    const spec = {
      kind: "pipeline",
      stages: Array.from({ length: STAGES }, (_, i) => ({ name: `s${i}`, spec: TRAIN, ...(i ? { init: { fromStage: `s${i - 1}` } } : {}) })),
    };
    const submitted = [];
    for (let i = 0; i < PIPELINES; i++) submitted.push(await servers[i % 2]!.api.job.submit.mutate({ projectId: "cross-pipe", spec }));
    for (const { jobIds } of submitted) {
      const [pipelineId, ...stageIds] = jobIds;
      const end = await waitFor(
        async () => {
          const j = await servers[1]!.api.job.get.query({ jobId: pipelineId! });
          return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
        },
        150_000,
        `pipeline ${pipelineId} to end`,
      );
      expect(end.error ?? "").toBe("");
      expect(end.status).toBe("succeeded");
      expect(end.stages!.map((s) => s.status)).toEqual(Array(STAGES).fill("succeeded"));
      let prevEnd = 0;
      for (const [i, id] of stageIds.entries()) {
        const job = await servers[0]!.api.job.get.query({ jobId: id });
        // one attempt, queued once (by the stage before it, or at submit), started once
        expect(job.attemptHistory.map((a) => a.status)).toEqual(["succeeded"]);
        const events = await servers[0]!.api.job.events.query({ jobId: id });
        expect(events.filter((e) => e.type === "queued")).toHaveLength(1);
        const runs = seen.filter((x) => x.jobId === id);
        expect(runs).toHaveLength(1);
        expect(runs[0]!.startedAt).toBeGreaterThanOrEqual(prevEnd);
        if (i > 0) expect(runs[0]!.sourceSteps[stageIds[i - 1]!]).toEqual(["ckpt-000000010"]);
        prevEnd = job.finishedAt!.getTime();
      }
      // the pipeline ended once
      const pEvents = await servers[0]!.api.job.events.query({ jobId: pipelineId! });
      expect(pEvents.filter((e) => e.type === "succeeded")).toHaveLength(1);
    }
  });
});
