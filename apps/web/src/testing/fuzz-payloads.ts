// Valid payloads the fuzz suite mutates, one list per tRPC procedure and socket event.
// Reads name the seeded ("kept") project, run and job, so mutations reach the deepest checks;
// anything that writes names only scratch data or ids that do not exist, so even a mutation
// that happens to be valid cannot touch what the suite checks afterwards.
import { packPoints, PROTOCOL_VERSION } from "@heron/core";

export type FuzzIds = {
  keptProjectId: string;
  keptRunId: string;
  keptJobId: string;
  scratchProjectId: string;
  scratchRunId: string;
  scratchJobId: string;
  runnerId: string;
};

const v = PROTOCOL_VERSION;
const now = Date.UTC(2024, 0, 1);

const trainSpec = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 };
const loraSpec = {
  kind: "finetune",
  task: "image",
  base: { pretrain: { model: "mlp-mnist", dataset: "mnist", epochs: 1 } },
  method: "lora",
  lora: { r: 4, alpha: 8, dropout: 0, targets: ["dense*", "**.kernel"] },
  dataset: "mnist",
  epochs: 1,
  batchSize: 32,
  lr: 0.01,
};
const distillSpec = { kind: "distill", teacher: { runId: "fuzz-missing-run" }, methods: ["kd", "ce"], dataset: "mnist", epochs: 1, batchSize: 32, lr: 0.01 };

/** tRPC procedure → valid inputs (undefined: the procedure takes none) */
export function procedureBases(ids: FuzzIds): Record<string, unknown[]> {
  const { keptProjectId: kp, keptRunId: kr, keptJobId: kj, scratchProjectId: sp, scratchRunId: sr, scratchJobId: sj } = ids;
  return {
    "project.list": [undefined],
    "project.get": [{ project: "fuzz-kept" }, { project: kp }],
    "project.create": [{ name: "fuzz-new", description: "made by the fuzzer" }],
    "project.members": [{ projectId: kp }],
    "project.addMember": [
      { projectId: sp, email: "nobody@fuzz.test", role: "viewer" },
      { projectId: sp, userId: "fuzz-missing-user", role: "member" },
    ],
    "project.removeMember": [
      { projectId: sp, email: "nobody@fuzz.test" },
      { projectId: sp, userId: "fuzz-missing-user" },
    ],

    "run.list": [{ projectId: kp, limit: 10 }],
    "run.page": [
      { projectId: kp, limit: 10, offset: 0, search: "loss lr=0.1", tag: "a", status: "finished", sort: { col: "config:lr", dir: -1 } },
      { projectId: kp, view: "all", config: [{ key: "opt.lr", op: "gte", value: "0.01" }], sort: { col: "metric:loss:last", dir: 1 } },
      { projectId: kp, pinned: [kr, "fuzz-missing-run"], inGroup: { by: "config:lr", value: "0.1" } },
      { projectId: kp, pinned: [kr], inGroup: { by: "tag", value: null } },
    ],
    "run.facets": [{ projectId: kp }, { projectId: kp, view: "trash" }],
    "run.groups": [
      { projectId: kp, by: "config:opt.lr", search: "loss", tag: "a", status: "finished" },
      { projectId: kp, by: "tag", view: "all", config: [{ key: "lr", op: "eq", value: "0.1" }] },
    ],
    "run.get": [{ runId: kr }],
    "run.logs": [{ runId: kr, afterId: 0, limit: 10, search: "loss" }],
    "run.texts": [{ runId: kr, key: "samples", afterStep: 0, limit: 10 }],
    "run.media": [{ runId: kr, key: "img", limit: 10 }],
    "run.mediaData": [{ runId: kr, id: 1 }],
    "run.compareTable": [{ runIds: [kr, sr] }, { group: "fuzz-group" }],
    "run.rewind": [{ runId: sr, step: 5 }],
    "run.update": [{ runId: sr, name: "fuzz-renamed", notes: "# notes\n<b>x</b>", tags: ["a", "b"] }],
    "run.archive": [{ runIds: [sr] }],
    "run.unarchive": [{ runIds: [sr] }],
    "run.delete": [{ runIds: [sr] }],
    "run.restore": [{ runIds: [sr] }],
    // a missing project: emptying the scratch project's trash would delete the scratch run for good
    "run.emptyTrash": [{ projectId: "fuzz-missing-project" }],
    "run.move": [{ runIds: [sr], projectId: sp }],
    "run.fork": [{ runId: sr, step: 5, overrides: { lr: 0.001 } }],
    "lineage.get": [
      { runId: kr, depth: 3 },
      { artifactId: "fuzz-missing-artifact", depth: 10 },
    ],

    "metric.keys": [{ runId: kr }],
    "metric.series": [{ runId: kr, key: "loss", maxPoints: 10, stepMin: 0, stepMax: 100 }],
    "metric.compare": [{ runIds: [kr, sr], key: "loss", maxPoints: 10 }],
    "metric.summaries": [{ runIds: [kr, sr] }],
    "metric.groupedSeries": [{ projectId: kp, runIds: [kr], key: "loss", by: "config:lr", maxPoints: 10 }],

    "job.submit": [
      { projectId: sp, spec: trainSpec, queue: "default", priority: 0, maxAttempts: 1, group: "g" },
      { projectId: sp, spec: loraSpec },
      { projectId: sp, spec: distillSpec, group: "fuzz-distill" },
      {
        projectId: sp,
        spec: {
          kind: "pipeline",
          name: "fuzz",
          stages: [
            { name: "a", spec: trainSpec },
            { name: "b", spec: { ...trainSpec, freeze: ["layer1.**"] }, init: { fromStage: "a" } },
          ],
        },
      },
    ],
    "job.get": [{ jobId: kj }],
    "job.list": [{ projectId: kp, status: "queued", queue: "kept-only", runnerId: ids.runnerId, limit: 5 }],
    "job.events": [{ jobId: kj }],
    "job.checkpoints": [{ jobId: kj }],
    "job.cancel": [{ jobId: sj }],
    "job.retry": [{ jobId: sj }],

    "sweep.create": [
      {
        projectId: sp,
        sweep: {
          method: "grid",
          metric: { name: "test/accuracy", goal: "maximize" },
          parameters: { lr: { values: [0.01, 0.1] } },
          spec: trainSpec,
          parallel: 1,
        },
      },
    ],
    "sweep.get": [{ sweepId: "fuzz-missing-sweep" }],
    "sweep.list": [{ projectId: kp }],
    "sweep.pause": [{ sweepId: "fuzz-missing-sweep" }],
    "sweep.resume": [{ sweepId: "fuzz-missing-sweep" }],
    "sweep.cancel": [{ sweepId: "fuzz-missing-sweep" }],

    "alert.list": [{ projectId: kp }],
    "alert.deliveries": [{ projectId: kp, limit: 10 }],
    "alert.create": [
      { projectId: sp, name: "fuzz rule", event: "metric.above", metricKey: "loss", threshold: 1e9, webhookUrl: "http://127.0.0.1:9/fuzz", format: "slack" },
    ],
    "alert.update": [{ projectId: sp, ruleId: "fuzz-missing-rule", enabled: false }],
    "alert.delete": [{ projectId: sp, ruleId: "fuzz-missing-rule" }],

    "view.list": [{ projectId: kp }],
    "view.create": [
      {
        projectId: sp,
        name: "fuzz view",
        isDefault: true,
        state: {
          filters: { text: "a", status: "finished", tag: "t", configKey: "lr", configValue: "0.1" },
          sort: { col: "created", dir: -1 },
          columns: ["name", "status"],
          view: "all",
          chart: { ema: 0.5, avg: 0, x: "step", log: false },
          pinned: [sr],
        },
      },
    ],
    "view.update": [{ projectId: sp, viewId: "fuzz-missing-view", isDefault: true }],
    "view.delete": [{ projectId: sp, viewId: "fuzz-missing-view" }],

    "runner.list": [undefined],
    "runner.get": [{ runnerId: ids.runnerId }],
    "runner.createToken": [{ name: "fuzz-made", queues: ["default", "q.2"] }],
    "runner.revoke": [{ runnerId: "fuzz-missing-runner" }],

    "user.me": [undefined],
    "user.list": [undefined],
    "user.create": [{ email: "not an email", password: "short", name: "n", role: "user" }],
    "user.setRole": [{ userId: "fuzz-missing-user", role: "admin" }],

    "apiKey.create": [{ name: "fuzz", scope: "read", projectIds: [sp], expiresAt: new Date(now + 3_600_000) }],
    "apiKey.list": [undefined],
    "apiKey.revoke": [{ id: "fuzz-missing-key" }],

    "audit.list": [{ limit: 5 }, undefined],

    "artifact.list": [{ projectId: kp }, { projectId: kp, type: "model" }],
    "artifact.get": [
      { projectId: kp, name: "fuzz-missing-artifact" },
      { projectId: kp, name: "fuzz-missing-artifact", version: 3 },
      { projectId: kp, name: "fuzz-missing-artifact", alias: "production" },
    ],
    "artifact.setAlias": [{ artifactVersionId: "fuzz-missing-version", alias: "production" }],
  };
}

const point = (step: number) => ({ key: "loss", step, value: 1 / (step + 1), ts: now + step });
const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13]);

/** socket event → valid payloads (writes aim at the scratch run and job) */
export function eventBases(ids: FuzzIds): Record<string, unknown[]> {
  const { keptRunId: kr, keptJobId: kj, scratchRunId: sr, scratchJobId: sj } = ids;
  const fenced = { v, jobId: sj, fencingToken: 1 };
  return {
    "run:init": [
      {
        v,
        project: "fuzz-scratch",
        name: "n",
        config: { lr: 0.1, nested: { a: [1, 2] } },
        tags: ["t"],
        group: "g",
        notes: "",
        host: "h",
        environment: {},
        rank: 0,
        writer: "w",
        startedAt: now,
      },
      { v, project: "fuzz-scratch", id: sr, resume: "must", rank: 1, writer: "w1", sync: true },
    ],
    "run:log": [
      {
        v,
        runId: sr,
        seq: 1,
        writer: "0",
        points: [point(1), point(2), { key: "acc", step: 1, value: "NaN", ts: now }],
        texts: [{ key: "samples", step: 1, rows: [{ text: "t", caption: "c" }], ts: now }],
        images: [{ key: "img", step: 1, width: 1, height: 1, png, ts: now }],
        logs: [{ stream: "stdout", line: "hello", ts: now }],
        config: { a: 1 },
        summary: { best: 1 },
        environment: { backend: "cpu" },
      },
      {
        v,
        runId: sr,
        seq: 2,
        writer: "1",
        packed: packPoints([
          ["loss", 3, 0.5, now],
          ["acc", 3, "Infinity", now],
        ]),
        rewind: { step: 2 },
      },
      { v, runId: sr, seq: 3, points: [], end: { state: "crashed", error: "boom" } },
    ],
    "run:finish": [{ v, runId: sr, state: "finished", error: "e", summary: { s: 1 } }],
    "run:config": [{ v, runId: sr, config: { a: 2 } }],
    "run:heartbeat": [{ v, runId: sr }],
    subscribe: [{ v, runId: kr }],
    unsubscribe: [{ v, runId: kr }],

    "runner:hello": [
      {
        v,
        name: "fuzz-runner",
        hostname: "h",
        cpus: 2,
        memoryBytes: 1e9,
        backend: "cpu",
        gpus: [{ name: "g", memoryBytes: 1 }],
        slots: 1,
        queues: ["default"],
      },
    ],
    "runner:claim": [{ v }],
    "runner:heartbeat": [{ v, leases: [{ jobId: sj, fencingToken: 1 }] }],
    "runner:drain": [{ v }],
    "job:report": [
      { ...fenced, status: "running", exitCode: null },
      { ...fenced, status: "failed", exitCode: 1, error: "x" },
    ],
    "job:logs": [{ ...fenced, lines: [{ stream: "stdout", line: "x" }] }],
    "job:rewind": [{ ...fenced, step: 1 }],
    "job:checkpoint:chunk": [{ ...fenced, step: 1, file: "model.json", index: 0, data: png }],
    "job:checkpoint:commit": [{ ...fenced, step: 1, files: [{ name: "model.json", bytes: 12, chunks: 1 }] }],
    "job:checkpoint:latest": [fenced],
    "job:checkpoint:read": [{ ...fenced, step: 1, file: "model.json", index: 0 }],
    "job:source-checkpoint:latest": [{ ...fenced, sourceJobId: kj }],
    "job:source-checkpoint:read": [{ ...fenced, sourceJobId: kj, step: 1, file: "weights.bin", index: 0 }],
  };
}
