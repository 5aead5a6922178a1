// A teacher (distill) or base (fine-tune) checkpoint trained on ONE runner host is used by
// jobs on ANOTHER host that never saw it: the daemon fetches it from the server before the
// job starts, under the job's own lease, and the server serves only what the spec names.
// Synthetic data and tiny sample counts keep it quick.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type Lease, PROTOCOL_VERSION } from "@heron/core";
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
const FINETUNE = {
  kind: "finetune",
  task: "image",
  method: "head",
  dataset: "synthetic",
  epochs: 1,
  batchSize: 32,
  lr: 0.003,
  maxTrainSamples: 64,
  maxTestSamples: 64,
  seed: 1,
  logEvery: 1,
};

describe("teacher/base checkpoints travel through the server (sqlite)", () => {
  let t: TestServer;
  const daemons: RunnerDaemon[] = [];
  const homes: string[] = [];

  async function startRunner(name: string, queues: string[], slots = 1) {
    const { token } = await t.api.runner.createToken.mutate({ name, queues });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `heron-${name}-`));
    homes.push(home);
    const d = new RunnerDaemon({ server: t.server.url, token, name, slots, queues, home, executor: createProcessExecutor(), logger: pino({ level: "warn" }) });
    await d.start();
    daemons.push(d);
    return { daemon: d, home };
  }
  const finished = (jobId: string, ms = 60_000) =>
    waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return ["succeeded", "failed", "cancelled"].includes(j.status) ? j : null;
      },
      ms,
      `job ${jobId} to finish`,
    );
  const logsOf = async (runId: string) => (await t.api.run.logs.query({ runId, limit: 10_000 })).map((l) => l.line).join("\n");

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "fetch" });
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("a job on a host that never saw the teacher/base fetches it from the server; nothing else can be read", async () => {
    // runner 1 trains the teacher, then goes away with its HERON_HOME
    const r1 = await startRunner("trainer", ["default"]);
    const { jobId: teacherJob } = await t.api.job.submit.mutate({ projectId: "fetch", spec: TEACHER });
    const tj = await finished(teacherJob);
    expect(tj.error ?? "").toBe("");
    expect(tj.status).toBe("succeeded");
    await r1.daemon.stop();
    expect(fs.readdirSync(path.join(r1.home, "checkpoints", teacherJob)).some((d) => d.startsWith("ckpt-"))).toBe(true);

    // the server refuses reads the spec does not name (a raw runner socket holding a lease)
    const { jobId: otherJob } = await t.api.job.submit.mutate({ projectId: "fetch", spec: { ...TEACHER, seed: 2 }, queue: "parked" });
    await t.api.job.submit.mutate({ projectId: "fetch", spec: { ...DISTILL, teacher: { runId: tj.runId! } }, queue: "probe" });
    const { token } = await t.api.runner.createToken.mutate({ name: "probe", queues: ["probe"] });
    const probe = await t.connect(token);
    const ask = <T>(event: string, payload: object) =>
      new Promise<{ ok: boolean; error?: string } & T>((resolve) =>
        (probe as unknown as { emit: (e: string, p: unknown, cb: (a: never) => void) => void }).emit(event, { v: PROTOCOL_VERSION, ...payload }, resolve),
      );
    expect((await ask("runner:hello", { name: "probe", hostname: "probe", cpus: 1, memoryBytes: 1, backend: "cpu", slots: 1, queues: ["probe"] })).ok).toBe(
      true,
    );
    const lease = (await ask<{ lease: Lease }>("runner:claim", {})).lease;
    const held = { jobId: lease.jobId, fencingToken: lease.fencingToken };
    expect(lease.spec).toMatchObject({ teacher: { runId: tj.runId, jobId: teacherJob } });
    const ok = await ask<{ checkpoint: { step: number; files: unknown[] } }>("job:source-checkpoint:latest", { ...held, sourceJobId: teacherJob });
    expect(ok.ok).toBe(true);
    expect(ok.checkpoint.files.length).toBeGreaterThan(0);
    const denied = await ask("job:source-checkpoint:latest", { ...held, sourceJobId: otherJob });
    expect(denied).toMatchObject({ ok: false, error: expect.stringMatching(/does not start from job/) });
    const deniedRead = await ask("job:source-checkpoint:read", { ...held, sourceJobId: otherJob, step: 0, file: "meta.json", index: 0 });
    expect(deniedRead).toMatchObject({ ok: false, error: expect.stringMatching(/does not start from job/) });
    const stale = await ask("job:source-checkpoint:latest", { ...held, fencingToken: held.fencingToken + 1, sourceJobId: teacherJob });
    expect(stale).toMatchObject({ ok: false, error: expect.stringMatching(/stale fencing token/) });
    expect((await ask("job:report", { ...held, status: "cancelled" })).ok).toBe(true);
    probe.close();

    // runner 2 (a fresh HERON_HOME) runs a distillation and a fine-tune from runner 1's checkpoint
    const { jobId: lateJob } = await t.api.job.submit.mutate({ projectId: "fetch", spec: { ...DISTILL, teacher: { runId: tj.runId! } }, queue: "late" });
    const r2 = await startRunner("student", ["default"]);
    const { jobIds } = await t.api.job.submit.mutate({ projectId: "fetch", spec: { ...DISTILL, teacher: { runId: tj.runId! } } });
    const { jobId: ftJob } = await t.api.job.submit.mutate({ projectId: "fetch", spec: { ...FINETUNE, base: { runId: tj.runId! } } });
    // one slot: the distillation runs first and downloads; the fine-tune finds it on the host
    const dj = await finished(jobIds[0]!);
    expect(dj.error ?? "").toBe("");
    expect(dj.status).toBe("succeeded");
    const dLogs = await logsOf(dj.runId!);
    expect(dLogs).toMatch(
      new RegExp(`\\[runner\\] teacher checkpoint: downloaded step \\d+ of teacher run ${tj.runId} \\(job ${teacherJob}\\) from the server`),
    );
    expect(dLogs).toMatch(/teacher: mlp-mnist from run .* frozen/);
    const fj = await finished(ftJob);
    expect(fj.error ?? "").toBe("");
    expect(fj.status).toBe("succeeded");
    const fLogs = await logsOf(fj.runId!);
    expect(fLogs).toMatch(new RegExp(`\\[runner\\] base checkpoint: step \\d+ of base run ${tj.runId} \\(job ${teacherJob}\\) is already on this host`));
    expect(fLogs).toMatch(/trainable parameters: [\d,]+ of [\d,]+/);
    const fetched = fs.readdirSync(path.join(r2.home, "checkpoints", teacherJob));
    expect(fetched.filter((d) => d.startsWith("ckpt-"))).toHaveLength(1);
    expect(fetched.filter((d) => d.includes(".download-"))).toEqual([]);

    // the teacher's checkpoint gone from the server: refused at submit, and a queued job fails with that reason
    await t.server.services.prisma.jobCheckpoint.deleteMany({ where: { jobId: teacherJob } });
    await expect(t.api.job.submit.mutate({ projectId: "fetch", spec: { ...DISTILL, teacher: { runId: tj.runId! } } })).rejects.toThrow(
      /has no checkpoint stored on the server/,
    );
    await startRunner("late", ["late"]);
    const late = await finished(lateJob);
    expect(late.status).toBe("failed");
    expect(late.error).toMatch(new RegExp(`teacher run ${tj.runId} \\(job ${teacherJob}\\) has no checkpoint on the server`));
  }, 120_000);
});
