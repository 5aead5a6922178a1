// Two server processes on one PostgreSQL + Redis behave as one: a cancel issued through server
// A reaches a job whose runner is connected to server B (pushed through the socket.io Redis
// adapter, not waiting for a heartbeat) and the job is `cancelled` within 5 s; a dashboard
// subscribed on B sees the live points and status of a run whose job reports through A.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type LivePointsEvent, PROTOCOL_VERSION, type RunStatusEvent } from "@heron/core";
import { createFakeExecutor, RunnerDaemon, type RunnerProcess, spawnRunner } from "@heron/runner";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { postgresAvailable, redisAvailable, type ServerProcess, startServerProcesses, waitFor } from "../../testing/harness";

const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
const skip = !(await postgresAvailable()) || !(await redisAvailable());

describe.skipIf(skip)("two server processes on PostgreSQL + Redis", () => {
  let cluster: Awaited<ReturnType<typeof startServerProcesses>> | undefined;
  let a: ServerProcess;
  let b: ServerProcess;
  const procs: RunnerProcess[] = [];
  const daemons: RunnerDaemon[] = [];
  const homes: string[] = [];
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "heron-runner-"));
    homes.push(h);
    return h;
  };

  beforeAll(async () => {
    // the default lease TTL (30 s): runners heartbeat every 5 s, so a cancel arriving well
    // within that came through the push
    cluster = await startServerProcesses(2);
    [a, b] = cluster.servers as [ServerProcess, ServerProcess];
    await a.api.project.create.mutate({ name: "cross" });
  }, 120_000);
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await cluster?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it("pushes a cancel issued on A to the runner's socket on B", async () => {
    const { runnerId, token } = await a.api.runner.createToken.mutate({ name: "raw-on-b", queues: ["raw"] });
    const runner = await b.connect(token);
    await runner.emitWithAck("runner:hello", {
      v: PROTOCOL_VERSION,
      name: "raw-on-b",
      hostname: "h",
      cpus: 1,
      memoryBytes: 1,
      backend: "wasm",
      slots: 1,
      queues: ["raw"],
    });
    const { jobId } = await a.api.job.submit.mutate({ projectId: "cross", spec: SPEC, queue: "raw" });
    const claim = await runner.emitWithAck("runner:claim", { v: PROTOCOL_VERSION });
    if (!claim.ok || !claim.lease) throw new Error("the runner got no lease");
    expect(claim.lease.jobId).toBe(jobId);
    const pushed = new Promise<{ jobId: string }>((resolve) => runner.once("job:cancel", resolve));

    const cancelled = await a.api.job.cancel.mutate({ jobId });
    expect(cancelled).toMatchObject({ status: "running", cancelRequested: true, runnerId });
    // no heartbeat is ever sent on this socket: only the Redis-relayed push can deliver it
    expect(await pushed).toEqual({ jobId });
    const report = await runner.emitWithAck("job:report", { v: PROTOCOL_VERSION, jobId, fencingToken: claim.lease.fencingToken, status: "cancelled" });
    expect(report).toEqual({ ok: true });
    expect((await b.api.job.get.query({ jobId })).status).toBe("cancelled");
  });

  it("takes concurrent reports for many jobs on both servers at once without a database error", { timeout: 60_000 }, async () => {
    const N = 20;
    const { token } = await a.api.runner.createToken.mutate({ name: "burst", queues: ["burst"] });
    // one runner, a socket on each server (as after a reconnect to the other one)
    const [onA, onB] = [await a.connect(token), await b.connect(token)];
    for (const s of [onA, onB])
      await s.emitWithAck("runner:hello", {
        v: PROTOCOL_VERSION,
        name: "burst",
        hostname: "h",
        cpus: 1,
        memoryBytes: 1,
        backend: "wasm",
        slots: N,
        queues: ["burst"],
      });
    for (let i = 0; i < N; i++) await a.api.job.submit.mutate({ projectId: "cross", spec: SPEC, queue: "burst" });
    const leases: { jobId: string; fencingToken: number }[] = [];
    for (let i = 0; i < N; i++) {
      const ack = await (i % 2 ? onB : onA).emitWithAck("runner:claim", { v: PROTOCOL_VERSION });
      if (!ack.ok || !ack.lease) throw new Error(`claim ${i} got no lease`);
      leases.push(ack.lease);
    }
    // every job's "running" and final report in flight together, half through each server
    const acks = await Promise.all(
      leases.flatMap((l, i) => {
        const held = { v: PROTOCOL_VERSION, jobId: l.jobId, fencingToken: l.fencingToken };
        return [
          (i % 2 ? onA : onB).emitWithAck("job:report", { ...held, status: "running" }),
          (i % 2 ? onB : onA).emitWithAck("job:report", { ...held, status: "succeeded", exitCode: 0 }),
        ];
      }),
    );
    const finals = acks.filter((_, k) => k % 2 === 1);
    expect(finals).toEqual(Array(N).fill({ ok: true }));
    // a "running" that lost the race to its final report is refused as stale, never an internal error
    for (const ack of acks.filter((_, k) => k % 2 === 0)) if (!ack.ok) expect(ack.error).toMatch(/stale fencing token/);
    for (const l of leases) {
      const events = await b.api.job.events.query({ jobId: l.jobId });
      expect(events.filter((e) => e.type === "succeeded")).toHaveLength(1);
      expect((await b.api.job.get.query({ jobId: l.jobId })).status).toBe("succeeded");
    }
    expect(a.output() + b.output()).not.toMatch(/socket handler failed|transaction/i);
  });

  it("cancels, through A, a job running on a runner process connected to B, within 5 s", { timeout: 60_000 }, async () => {
    const { runnerId, token } = await a.api.runner.createToken.mutate({ name: "daemon-on-b", queues: ["daemon"] });
    // its fake jobs never end by themselves: only the cancel ends this one
    const r = spawnRunner({ server: b.url, token, name: "daemon-on-b", home: home(), slots: 1, queues: ["daemon"], fakeJobMs: 3_600_000 });
    procs.push(r);
    await r.registered;
    const { jobId } = await a.api.job.submit.mutate({ projectId: "cross", spec: SPEC, queue: "daemon" });
    await waitFor(
      async () => {
        const events = await a.api.job.events.query({ jobId });
        return events.some((e) => e.type === "started");
      },
      30_000,
      "the job to start on the runner",
    );
    expect((await a.api.job.get.query({ jobId })).runnerId).toBe(runnerId);

    const t0 = Date.now();
    await a.api.job.cancel.mutate({ jobId });
    const done = await waitFor(
      async () => {
        const j = await a.api.job.get.query({ jobId });
        return j.status !== "running" ? j : null;
      },
      10_000,
      "the job to stop",
    );
    const elapsedMs = Date.now() - t0;
    expect(done.status).toBe("cancelled");
    // the bound: a cancel reaches a running job within 5 s
    expect(elapsedMs, `cancel took ${elapsedMs} ms`).toBeLessThan(5000);
    if (process.env.HERON_TEST_TIMINGS) console.log(`cross-server cancel: ${elapsedMs} ms`);
    expect(done.attemptHistory.at(-1)).toMatchObject({ status: "cancelled", runnerId });
    expect(r.output.join("\n")).toContain("cancelling job");
  });

  it("shows a dashboard on B the live points and status of a run whose job reports through A", { timeout: 60_000 }, async () => {
    const { token } = await a.api.runner.createToken.mutate({ name: "daemon-on-a", queues: ["live"] });
    // in-process daemon whose fake job logs through the real SDK (to A, the runner's server)
    const d = new RunnerDaemon({
      server: a.url,
      token,
      name: "daemon-on-a",
      slots: 1,
      queues: ["live"],
      home: home(),
      executor: createFakeExecutor({ stepMs: 50, stepsPerEpoch: 20 }),
      logger: pino({ level: "warn" }),
    });
    daemons.push(d);
    await d.start();
    const { jobId } = await a.api.job.submit.mutate({ projectId: "cross", spec: { ...SPEC, epochs: 4 }, queue: "live" });
    const runId = await waitFor(async () => (await a.api.job.get.query({ jobId })).runId, 30_000, "the job's run");

    const dashboard = await b.connect();
    const points: LivePointsEvent["points"] = [];
    const statuses: RunStatusEvent["status"][] = [];
    dashboard.on("points", (e) => e.runId === runId && points.push(...e.points));
    dashboard.on("run:status", (e) => e.runId === runId && statuses.push(e.status));
    expect(await dashboard.emitWithAck("subscribe", { v: PROTOCOL_VERSION, runId })).toEqual({ ok: true });

    await waitFor(async () => (await a.api.job.get.query({ jobId })).status === "succeeded", 40_000, "the job to succeed");
    await waitFor(async () => statuses.includes("finished"), 10_000, "the run's final status on B");
    // points logged after the subscription reached B live (80 steps over ~4 s; it subscribed early)
    const steps = points.filter((p) => p.key === "train/loss").map((p) => p.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.at(-1)).toBe(79);
    expect(new Set(steps).size).toBe(steps.length);
    // the status is the run's (finished), never the job's (succeeded)
    expect(statuses.every((s) => ["running", "finished"].includes(s))).toBe(true);
  });
});
