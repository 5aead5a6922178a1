// "3 runners, 30 jobs, one runner SIGKILLed mid-job": every job ends succeeded exactly once,
// the killed attempts show `lost`, their leases expire within the TTL, and the killed runner
// coming back with its old fencing token cannot write. Runners are real daemon processes
// (the CLI) running fast fake jobs. Once on SQLite, once with two server instances sharing
// one PostgreSQL schema and Redis (runners split between them).
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "@heron/core";
import { spawnRunner, type RunnerProcess } from "@heron/runner";
import { postgresAvailable, startTestServer, waitFor, type TestServer } from "../../testing/harness";

const TTL_S = 2;
const JOBS = 30;
const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
const REDIS_URL = process.env.HERON_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisAvailable() {
  const u = new URL(REDIS_URL);
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
  if (!ok && process.env.CI === "true") throw new Error(`Redis is required in CI but ${REDIS_URL} is unreachable`);
  return ok;
}
const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

type Setup = { servers: TestServer[]; close(): Promise<void> };

async function sqliteSetup(): Promise<Setup> {
  const t = await startTestServer("sqlite", { HERON_LEASE_TTL_S: TTL_S });
  return { servers: [t], close: () => t.close() };
}

/** two server instances on one PostgreSQL schema, joined by the socket.io Redis adapter */
async function pgRedisSetup(): Promise<Setup> {
  const pgSchema = `t_${crypto.randomBytes(6).toString("hex")}`;
  const a = await startTestServer("postgres", { HERON_LEASE_TTL_S: TTL_S, pgSchema, REDIS_URL });
  const b = await startTestServer("postgres", { HERON_LEASE_TTL_S: TTL_S, pgSchema, REDIS_URL });
  return {
    servers: [a, b],
    async close() {
      await b.close();
      await a.close();
      // the harness drops the schema it generated; this one is ours
      const pg = await import("pg");
      const c = new pg.default.Client({ connectionString: process.env.HERON_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
      await c.end();
    },
  };
}

const cases = [
  { name: "sqlite, one server", skip: false, setup: sqliteSetup },
  { name: "postgres + redis, two servers", skip: !pgUp || !redisUp, setup: pgRedisSetup },
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
      // runner i connects to server i % servers (two servers: r0 and r2 on A, r1 on B)
      const server = s!.servers[i % s!.servers.length]!;
      runners.push(spawnRunner({ server: server.server.url, token: tok.token, name: `r${i}`, home, slots: 2, fakeJobMs: 400 }));
    });
    await Promise.all(runners.map((r) => r.registered));

    // submitted through every server: the queue is one
    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const srv = s.servers[i % s.servers.length]!;
      jobIds.push((await srv.api.job.submit.mutate({ projectId: "queue", spec: SPEC })).jobId);
    }

    // kill r0 (connected to server A) while it holds a running job
    const victim = tokens[0]!.runnerId;
    const held = await waitFor(async () => {
      const jobs = await api.job.list.query({ status: "running", runnerId: victim });
      return jobs.length ? jobs : null;
    }, 20_000, "r0 to hold a job");
    const killedAt = Date.now();
    runners[0]!.child.kill("SIGKILL");

    await waitFor(async () => {
      const done = await api.job.list.query({ projectId: "queue", status: "succeeded", limit: 1000 });
      return done.length === JOBS;
    }, 60_000, "all jobs to succeed");

    const all = await api.job.list.query({ projectId: "queue", limit: 1000 });
    expect(all.map((j) => j.status)).toEqual(Array(JOBS).fill("succeeded"));
    let lost = 0;
    for (const id of jobIds) {
      const job = await a!.api.job.get.query({ jobId: id });
      const events = await a!.api.job.events.query({ jobId: id });
      // completed exactly once: one succeeded attempt, one succeeded event
      expect(job.attemptHistory.filter((x) => x.status === "succeeded")).toHaveLength(1);
      expect(events.filter((e) => e.type === "succeeded")).toHaveLength(1);
      for (const att of job.attemptHistory.filter((x) => x.status === "lost")) {
        lost++;
        expect(att.runnerId).toBe(victim);
        const lostEvent = events.find((e) => e.type === "lost" && e.attempt === att.attempt)!;
        // the lease lapsed within the TTL of the last heartbeat (plus the 1 s sweep)
        expect(new Date(lostEvent.createdAt).getTime() - killedAt).toBeLessThanOrEqual(TTL_S * 1000 + 1500);
        expect(events.map((e) => e.type)).toContain("requeued");
      }
    }
    // the victim's leases at the kill: a job listed as running may still have finished (short
    // fake jobs) between our query and the SIGKILL, and it may have claimed a second slot after it
    expect(lost).toBeGreaterThanOrEqual(1);
    expect(lost).toBeLessThanOrEqual(2);
    const lostIds = [];
    for (const j of held) if ((await api.job.get.query({ jobId: j.id })).attemptHistory[0]?.status === "lost") lostIds.push(j);
    const victimJob = lostIds[0] ?? held[0]!;
    const lease = { jobId: victimJob.id, fencingToken: victimJob.fencingToken };
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
    const ckpt = await late.emitWithAck("job:checkpoint:chunk", { v: PROTOCOL_VERSION, ...lease, step: 1, file: "meta.json", index: 0, data: Buffer.from("{}") });
    expect(ckpt.ok).toBe(false);
    const rewind = await late.emitWithAck("job:rewind", { v: PROTOCOL_VERSION, ...lease, step: 0 });
    expect(rewind.ok).toBe(false);
    expect((await api.job.get.query({ jobId: lease.jobId })).status).toBe("succeeded");
  });
});
