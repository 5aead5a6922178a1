// The queue's rules with in-process runners and the fast fake executor: priority then FIFO,
// named queues, bad input refused with field-level errors, fencing of writes by runners that
// don't hold the lease, slot limits, and SIGTERM drain → requeued (not failed).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { createFakeExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { emitMalformed, startTestServer, type TestServer, waitFor } from "../../testing/harness";

const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
const hello = (slots: number, queues = ["default"]) => ({
  v: PROTOCOL_VERSION,
  name: "raw",
  hostname: "h",
  cpus: 1,
  memoryBytes: 1,
  backend: "wasm",
  slots,
  queues,
});

describe("job queue", () => {
  let t: TestServer;
  const homes: string[] = [];
  const daemons: RunnerDaemon[] = [];
  const startDaemon = async (name: string, durationMs: number, queues = ["default"]) => {
    const { token } = await t.api.runner.createToken.mutate({ name, queues });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-q-"));
    homes.push(home);
    const executor = createFakeExecutor({ durationMs });
    const d = new RunnerDaemon({ server: t.server.url, token, name, queues, slots: 1, home, executor, logger: pino({ level: "silent" }) });
    daemons.push(d);
    await d.start();
    return { daemon: d, executor };
  };
  beforeAll(async () => {
    t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: 2 });
    await t.api.project.create.mutate({ name: "q" });
  });
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await t?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("grants by priority, then first in first out, only from the runner's queues", async () => {
    const { token } = await t.api.runner.createToken.mutate({ name: "raw", queues: ["gpu"] });
    const s = await t.connect(token);
    // the token fixes its queues: asking for another one at hello is refused
    expect(await s.emitWithAck("runner:hello", hello(10, ["gpu", "cpu"]))).toEqual({
      ok: false,
      error: expect.stringMatching(/may serve only the queues gpu; refused: cpu/),
    });
    await s.emitWithAck("runner:hello", hello(10, ["gpu"]));
    const low = (await t.api.job.submit.mutate({ projectId: "q", spec: SPEC, queue: "gpu" })).jobId;
    const other = (await t.api.job.submit.mutate({ projectId: "q", spec: SPEC, queue: "cpu" })).jobId;
    const high = (await t.api.job.submit.mutate({ projectId: "q", spec: SPEC, queue: "gpu", priority: 5 })).jobId;
    const low2 = (await t.api.job.submit.mutate({ projectId: "q", spec: SPEC, queue: "gpu" })).jobId;
    const order: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const ack = await s.emitWithAck("runner:claim", { v: PROTOCOL_VERSION });
      order.push(ack.ok ? (ack.lease?.jobId ?? null) : ack.error);
    }
    expect(order).toEqual([high, low, low2, null]);
    expect((await t.api.job.get.query({ jobId: other })).status).toBe("queued");
    await t.api.job.cancel.mutate({ jobId: other });
    expect((await t.api.job.get.query({ jobId: other })).status).toBe("cancelled");
    // leave nothing running for later tests: these leases expire and requeue… so cancel them
    for (const id of [high, low, low2]) await t.api.job.cancel.mutate({ jobId: id });
    s.close();
  });

  it("refuses bad input and writes from runners that don't hold the lease", async () => {
    await expect(t.api.job.submit.mutate({ projectId: "q", spec: { ...SPEC, epochs: 0 } })).rejects.toThrow(/epochs/);
    await expect(t.api.job.submit.mutate({ projectId: "q", spec: SPEC, queue: "no spaces" })).rejects.toThrow(/queue/);
    await expect(t.api.job.submit.mutate({ projectId: "q", spec: SPEC, priority: 5000 })).rejects.toThrow(/priority/);
    await expect(t.api.job.cancel.mutate({ jobId: "missing" })).rejects.toThrow(/job "missing" not found/);
    await expect(t.connect("hr_not_a_runner")).rejects.toThrow(/unauthorized/);

    const a = await t.api.runner.createToken.mutate({ name: "a" });
    const b = await t.api.runner.createToken.mutate({ name: "b" });
    const sa = await t.connect(a.token);
    const sb = await t.connect(b.token);
    expect(await sa.emitWithAck("runner:claim", { v: PROTOCOL_VERSION })).toEqual({ ok: false, error: expect.stringMatching(/hello/) });
    await sa.emitWithAck("runner:hello", hello(1));
    await sb.emitWithAck("runner:hello", hello(1));
    const { jobId } = await t.api.job.submit.mutate({ projectId: "q", spec: SPEC });
    const first = await sa.emitWithAck("runner:claim", { v: PROTOCOL_VERSION });
    expect(first.ok && first.lease?.jobId).toBe(jobId);
    const lease = first.ok ? first.lease! : null;
    await t.api.job.submit.mutate({ projectId: "q", spec: SPEC });
    // more than its slots
    expect(await sa.emitWithAck("runner:claim", { v: PROTOCOL_VERSION })).toEqual({ ok: false, error: expect.stringMatching(/1 of 1 slots/) });
    // a report for a job it doesn't hold, and a stale token from the holder
    const foreign = await sb.emitWithAck("job:report", { v: PROTOCOL_VERSION, jobId, fencingToken: lease!.fencingToken, status: "succeeded" });
    expect(foreign).toEqual({ ok: false, error: expect.stringMatching(/stale fencing token/) });
    const stale = await sa.emitWithAck("job:report", { v: PROTOCOL_VERSION, jobId, fencingToken: lease!.fencingToken - 1, status: "succeeded" });
    expect(stale.ok).toBe(false);
    const bad = await emitMalformed(sa, "job:report", { v: PROTOCOL_VERSION, jobId, fencingToken: lease!.fencingToken, status: "done" });
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/status/) });
    expect(
      await sa.emitWithAck("job:report", { v: PROTOCOL_VERSION, jobId, fencingToken: lease!.fencingToken, status: "failed", exitCode: 2, error: "boom" }),
    ).toEqual({ ok: true });
    const failed = await t.api.job.get.query({ jobId });
    expect(failed).toMatchObject({ status: "failed", exitCode: 2 });
    expect(failed.attemptHistory).toEqual([expect.objectContaining({ status: "failed", exitCode: 2, runnerName: "raw" })]);
    // retry puts it back in the queue
    expect((await t.api.job.retry.mutate({ jobId })).status).toBe("queued");
    // revoked: its open connection is cut at once, and it is refused at connect
    const cut = new Promise<void>((resolve) => sa.once("disconnect", () => resolve()));
    await t.api.runner.revoke.mutate({ runnerId: a.runnerId });
    await cut;
    await expect(t.connect(a.token)).rejects.toThrow(/unauthorized/);
    sa.close();
    sb.close();
    for (const j of await t.api.job.list.query({ projectId: "q", status: "queued" })) await t.api.job.cancel.mutate({ jobId: j.id });
  });

  it("drains on stop: the running job is requeued (not failed) and finishes on another runner", { timeout: 30_000 }, async () => {
    const first = await startDaemon("drainer", 60_000);
    const { jobId } = await t.api.job.submit.mutate({ projectId: "q", spec: SPEC });
    await waitFor(async () => (await t.api.job.get.query({ jobId })).status === "running", 10_000, "the job to start");
    await first.daemon.stop();
    const requeued = await t.api.job.get.query({ jobId });
    expect(requeued.status).toBe("queued");
    expect(requeued.attemptHistory.map((x) => x.status)).toEqual(["requeued"]);
    expect((await t.api.runner.list.query()).find((r) => r.name === "drainer")?.status).not.toBe("online");
    await startDaemon("taker", 50);
    const done = await waitFor(
      async () => {
        const j = await t.api.job.get.query({ jobId });
        return j.status === "succeeded" ? j : null;
      },
      10_000,
      "the job to finish on the other runner",
    );
    expect(done.attemptHistory.map((x) => [x.runnerName, x.status])).toEqual([
      ["drainer", "requeued"],
      ["taker", "succeeded"],
    ]);
    expect((await t.api.job.events.query({ jobId })).map((e) => e.type)).toEqual(
      expect.arrayContaining(["queued", "leased", "started", "requeued", "succeeded"]),
    );
  });
});
