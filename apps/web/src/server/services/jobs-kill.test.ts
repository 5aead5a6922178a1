// "3 runners, 30 jobs, one runner SIGKILLed mid-job": every job ends succeeded exactly once,
// the killed attempts show `lost`, their leases expire within the TTL, and the killed runner
// coming back with its old fencing token cannot write. Runners are real daemon processes
// (the CLI) running fast fake jobs. Once on SQLite, once with two server PROCESSES sharing
// one PostgreSQL schema and Redis (runners split between them), as two hosts would run them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { type RunnerProcess, spawnRunner } from "@heron/runner";
import { afterAll, describe, expect, it } from "vitest";

import { type createApi, postgresAvailable, redisAvailable, startServerProcesses, startTestServer, type TestSocket, waitFor } from "../../testing/harness";

const TTL_S = 2;
const JOBS = 30;
const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

/** what the test needs of a server, in-process or its own OS process */
type Server = { url: string; api: ReturnType<typeof createApi>; connect(token?: string): Promise<TestSocket> };
type Setup = { servers: Server[]; close(): Promise<void> };

async function sqliteSetup(): Promise<Setup> {
  const t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: TTL_S });
  return { servers: [{ url: t.server.url, api: t.api, connect: t.connect }], close: () => t.close() };
}

/** two server processes on one fresh PostgreSQL schema, joined by the socket.io Redis adapter */
async function pgRedisSetup(): Promise<Setup> {
  return startServerProcesses(2, { HERON_LEASE_TTL_S: String(TTL_S) });
}

const cases = [
  { name: "sqlite, one server", skip: false, setup: sqliteSetup },
  { name: "postgres + redis, two server processes", skip: !pgUp || !redisUp, setup: pgRedisSetup },
];

describe.each(cases)("3 runners, 30 jobs, one runner killed ($name)", ({ skip, setup }) => {
  const runners: RunnerProcess[] = [];
  const homes: string[] = [];
  let s: Setup | undefined;
  afterAll(async () => {
    for (const r of runners) r.child.kill("SIGKILL");
    await s?.close();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it.skipIf(skip)("runs every job exactly once, marks the killed attempts lost, and fences the late runner", { timeout: 90_000 }, async () => {
    s = await setup();
    const [a] = s.servers;
    const api = a!.api;
    await api.project.create.mutate({ name: "queue" });
    const tokens = await Promise.all([0, 1, 2].map((i) => api.runner.createToken.mutate({ name: `r${i}` })));
    tokens.forEach((tok, i) => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-runner-"));
      homes.push(home);
      // runner i connects to server i % servers (two servers: r0 and r2 on A, r1 on B). r0, the
      // victim, runs jobs that never end by themselves: once it fills its two slots, exactly
      // those two jobs are mid-run when it is killed, however slow the machine
      const server = s!.servers[i % s!.servers.length]!;
      runners.push(spawnRunner({ server: server.url, token: tok.token, name: `r${i}`, home, slots: 2, fakeJobMs: i === 0 ? 3_600_000 : 400 }));
    });
    await Promise.all(runners.map((r) => r.registered));

    // submitted through every server: the queue is one
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const srv = s.servers[i % s.servers.length]!;
      jobIds.push((await srv.api.job.submit.mutate({ projectId: "queue", spec: SPEC })).jobId);
    }

    // kill r0 (connected to server A) once it holds both its slots: it can neither finish
    // them nor claim more, so they are the attempts that must end lost
    const victim = tokens[0]!.runnerId;
    const held = await waitFor(
      async () => {
        const jobs = await api.job.list.query({ status: "running", runnerId: victim });
        return jobs.length === 2 ? jobs : null;
      },
      30_000,
      "r0 to fill its two slots",
    );
    const killedAt = Date.now();
    runners[0]!.child.kill("SIGKILL");

    await waitFor(
      async () => {
        const done = await api.job.list.query({ projectId: "queue", status: "succeeded", limit: 1000 });
        return done.length === JOBS;
      },
      60_000,
      "all jobs to succeed",
    );

    const all = await api.job.list.query({ projectId: "queue", limit: 1000 });
    expect(all.map((j) => j.status)).toEqual(Array(JOBS).fill("succeeded"));
    const lostJobs: string[] = [];
    for (const id of jobIds) {
      const job = await a!.api.job.get.query({ jobId: id });
      const events = await a!.api.job.events.query({ jobId: id });
      // completed exactly once: one succeeded attempt, one succeeded event
      expect(job.attemptHistory.filter((x) => x.status === "succeeded")).toHaveLength(1);
      expect(events.filter((e) => e.type === "succeeded")).toHaveLength(1);
      for (const att of job.attemptHistory.filter((x) => x.status === "lost")) {
        lostJobs.push(id);
        expect(att.runnerId).toBe(victim);
        const lostEvent = events.find((e) => e.type === "lost" && e.attempt === att.attempt)!;
        const lostAt = new Date(lostEvent.createdAt).getTime();
        // never before the lease ran out (as it stood when we listed it; heartbeats only extend it)
        expect(lostAt).toBeGreaterThanOrEqual(new Date(held.find((j) => j.id === id)!.leaseExpiresAt!).getTime());
        // the last heartbeat before the kill extended the lease to at most killedAt + TTL; the
        // sweep runs every second. 1.5 s more for a busy machine's timers and requests.
        expect(lostAt - killedAt, `lost ${lostAt - killedAt} ms after the kill`).toBeLessThanOrEqual(TTL_S * 1000 + 1000 + 1500);
        if (process.env.HERON_TEST_TIMINGS) console.log(`lease lapse detected ${lostAt - killedAt} ms after the kill (TTL ${TTL_S} s)`);
        expect(events.map((e) => e.type)).toContain("requeued");
      }
    }
    // exactly the victim's two attempts were lost, and nothing else
    expect(lostJobs.sort()).toEqual(held.map((j) => j.id).sort());
    const lease = { jobId: held[0]!.id, fencingToken: held[0]!.fencingToken };
    const lostJob = await api.job.get.query({ jobId: lease.jobId });
    expect(lostJob.attemptHistory[0]).toMatchObject({ status: "lost", runnerId: victim });
    expect(lostJob.attempts).toBe(2);

    // the killed runner comes back (same runner token) with its old lease: every write is refused
    const late = await a!.connect(tokens[0]!.token);
    await late.emitWithAck("runner:hello", { v: PROTOCOL_VERSION, name: "r0", hostname: "h", cpus: 1, memoryBytes: 1, backend: "wasm", slots: 2 });
    const report = await late.emitWithAck("job:report", { v: PROTOCOL_VERSION, ...lease, status: "failed", exitCode: 1 });
    expect(report).toEqual({ ok: false, error: expect.stringMatching(/stale fencing token/) });
    const logs = await late.emitWithAck("job:logs", { v: PROTOCOL_VERSION, ...lease, lines: [{ stream: "stdout", line: "late" }] });
    expect(logs.ok).toBe(false);
    const ckpt = await late.emitWithAck("job:checkpoint:chunk", {
      v: PROTOCOL_VERSION,
      ...lease,
      step: 1,
      file: "meta.json",
      index: 0,
      data: Buffer.from("{}"),
    });
    expect(ckpt.ok).toBe(false);
    const rewind = await late.emitWithAck("job:rewind", { v: PROTOCOL_VERSION, ...lease, step: 0 });
    expect(rewind.ok).toBe(false);
    expect((await api.job.get.query({ jobId: lease.jobId })).status).toBe("succeeded");
  });
});
