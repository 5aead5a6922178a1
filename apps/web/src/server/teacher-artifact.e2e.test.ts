// A teacher given as a model artifact: a train job that succeeds on host A is logged as a
// `model` artifact by the server; a maintainer points `production` at it; a distill job naming
// `{artifact: "<name>:production"}` runs on host B, whose HERON_HOME never saw the teacher —
// its daemon downloads the artifact's files (verified by digest) and the real distillation
// code reads them as the teacher's checkpoint. Lineage then reads teacher run → model
// artifact → student run. Synthetic data and tiny sample counts keep it quick.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../testing/harness";

const TEACHER = {
  kind: "train",
  dataset: "synthetic",
  model: "mlp-mnist",
  epochs: 1,
  batchSize: 32,
  lr: 0.003,
  maxTrainSamples: 128,
  maxTestSamples: 64,
  seed: 1,
  logEvery: 2,
  artifact: { name: "synthetic-teacher" },
};
const DISTILL = {
  kind: "distill",
  student: "light-cnn",
  methods: ["kd"],
  dataset: "synthetic",
  epochs: 1,
  batchSize: 32,
  lr: 0.001,
  maxTrainSamples: 64,
  maxTestSamples: 64,
  seed: 1,
  logEvery: 1,
};

describe("a model artifact as a distillation teacher (sqlite)", () => {
  let t: TestServer;
  const daemons: RunnerDaemon[] = [];
  const homes: string[] = [];

  async function startRunner(name: string) {
    const { token } = await t.api.runner.createToken.mutate({ name });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `heron-${name}-`));
    homes.push(home);
    const d = new RunnerDaemon({ server: t.server.url, token, name, slots: 1, home, executor: createProcessExecutor(), logger: pino({ level: "warn" }) });
    await d.start();
    daemons.push(d);
    return { daemon: d, home };
  }
  const finished = (jobId: string, ms = 120_000) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      ms,
      `job ${jobId} to finish`,
    );

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "registry" });
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("trains on host A, logs the model, and distills from `:production` on host B", { timeout: 300_000 }, async () => {
    const a = await startRunner("host-a");
    const teacherJob = await finished((await t.api.job.submit.mutate({ projectId: "registry", spec: TEACHER })).jobId);
    expect(teacherJob.error ?? "").toBe("");
    expect(teacherJob.status).toBe("succeeded");
    await a.daemon.stop();

    // the server logged the final checkpoint as a model artifact produced by the teacher's run
    const model = await waitFor(
      async () => (await t.api.artifact.list.query({ projectId: "registry", type: "model" })).find((x) => x.name === "synthetic-teacher"),
      30_000,
      "the teacher's model artifact",
    );
    const v0 = await t.api.artifact.get.query({ projectId: "registry", name: model.name, version: 0 });
    expect(v0.runId).toBe(teacherJob.runId);
    expect(v0.files.map((f) => f.path).sort()).toEqual(["manifest.json", "meta.json", "tensors.bin"]);
    expect(v0.metadata).toMatchObject({ kind: "train", model: "mlp-mnist", dataset: "synthetic", jobId: teacherJob.id });
    await t.api.artifact.setAlias.mutate({ artifactVersionId: v0.id, alias: "production" });

    // a bad reference is refused at submit, with the reason
    await expect(t.api.job.submit.mutate({ projectId: "registry", spec: { ...DISTILL, teacher: { artifact: "synthetic-teacher:staging" } } })).rejects.toThrow(
      /teacher: artifact "synthetic-teacher" has no alias "staging"/,
    );

    const b = await startRunner("host-b");
    expect(fs.existsSync(path.join(b.home, "artifacts"))).toBe(false);
    const submitted = await t.api.job.submit.mutate({ projectId: "registry", spec: { ...DISTILL, teacher: { artifact: "synthetic-teacher:production" } } });
    const student = await finished(submitted.jobId);
    expect(student.error ?? "").toBe("");
    expect(student.status).toBe("succeeded");
    // resolved at submit: an alias moved later does not change what the job starts from
    expect(student.spec).toMatchObject({ teacher: { artifact: "synthetic-teacher:production", versionId: v0.id } });

    // host B got the files over HTTP, byte for byte, and the distillation read them
    for (const f of v0.files) {
      const local = path.join(b.home, "artifacts", "versions", v0.id, f.path);
      expect(fs.statSync(local).size).toBe(f.bytes);
    }
    const logs = (await t.api.run.logs.query({ runId: student.runId!, limit: 10_000 })).map((l) => l.line).join("\n");
    expect(logs).toContain("[runner] teacher checkpoint: synthetic-teacher:production = synthetic-teacher:v0 (3 files");
    expect(logs).toMatch(/teacher: mlp-mnist from artifact synthetic-teacher:production \(checkpoint at step \d+\)/);

    // lineage of the student: teacher run → model artifact → student run
    const g = await t.api.lineage.get.query({ runId: student.runId! });
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining([`run:${teacherJob.runId}`, `artifact:${v0.id}`, `run:${student.runId}`]));
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: `run:${teacherJob.runId}`, to: `artifact:${v0.id}`, type: "produced" },
        { from: `artifact:${v0.id}`, to: `run:${student.runId}`, type: "used" },
      ]),
    );
    const artifactNode = g.nodes.find((n) => n.id === `artifact:${v0.id}`)!;
    expect(artifactNode).toMatchObject({ kind: "artifact", label: "synthetic-teacher:v0", href: "/projects/registry/artifacts/synthetic-teacher?version=v0" });
    expect(artifactNode.detail).toContain("production");
    // the artifact's own page asks from the other end and finds the same edges
    const fromArtifact = await t.api.lineage.get.query({ artifactId: v0.id, depth: 1 });
    expect(fromArtifact.edges).toEqual(expect.arrayContaining(g.edges.filter((e) => e.from === `artifact:${v0.id}` || e.to === `artifact:${v0.id}`)));
    // who used it, as the artifact page lists it
    const used = await t.api.artifact.get.query({ projectId: "registry", name: "synthetic-teacher", alias: "production" });
    expect(used.uses.map((u) => u.jobId)).toContain(student.id);
  });
});
