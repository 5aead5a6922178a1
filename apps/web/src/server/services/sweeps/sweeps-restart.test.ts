// The sweep controller keeps its state in the database, so real server processes can die under it:
// (a) a grid sweep runs exactly its cartesian product, each point once, across a server kill -9
//     and a restart on the same HERON_HOME (SQLite) and port, its runner daemons reconnecting;
// (b) two server processes on one PostgreSQL + Redis: only the holder of the "sweeps" lease
//     acts (no trial index twice, no job dispatched twice), and when it is killed the other
//     process takes over and finishes the sweep.
import { type ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { RunnerDaemon } from "@heron/runner";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";

import { createApi, postgresAvailable, redisAvailable, type ServerProcess, startServerProcess, TEST_REDIS_URL, waitFor } from "../../../testing/harness";
import { createSweepExecutor } from "../../../testing/sweep-executor";

const SERVER_PROCESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../testing/server-process.ts");
const SPEC = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 3, batchSize: 32, lr: 0.01 };
const GRID = {
  method: "grid",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { values: [0.001, 0.003, 0.01] }, batchSize: { values: [32, 64, 128] } },
  spec: SPEC,
  parallel: 2,
};
const pgAndRedis = (await postgresAvailable()) && (await redisAvailable());

const homes: string[] = [];
const tempDir = (prefix: string) => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  homes.push(h);
  return h;
};
const daemons: RunnerDaemon[] = [];
const children = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.allSettled(daemons.map((d) => d.stop()));
  for (const c of children) c.kill("SIGKILL");
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * server-process.ts on a given HERON_HOME and port. harness's startServerProcess picks a fresh
 * home and port per process; a restart must keep both (same SQLite file, and runners and SDKs
 * reconnect to the URL they know).
 */
async function spawnServer(home: string, port: number, key: string): Promise<{ url: string; child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    env: { ...process.env, LOG_LEVEL: "error", PORT: String(port), HERON_HOME: home, HERON_BOOTSTRAP_API_KEY: key, HERON_EXIT_WITH_PARENT: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (children.delete(child), resolve())));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready after 60 s:\n${out.slice(-2000)}`)), 60_000);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        out += d;
        const m = out.match(/READY (\S+)/);
        if (!m) return;
        clearTimeout(timer);
        resolve(m[1]!);
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before READY:\n${out.slice(-2000)}`));
    });
  });
  return { url, child, exited };
}

async function startRunners(url: string, api: ReturnType<typeof createApi>, names: string[]) {
  for (const name of names) {
    const { token } = await api.runner.createToken.mutate({ name });
    const d = new RunnerDaemon({
      server: url,
      token,
      name,
      slots: 1,
      home: tempDir("heron-runner-"),
      executor: createSweepExecutor({ epochMs: 150 }),
      logger: pino({ level: "silent" }),
      killGraceMs: 2000,
    });
    await d.start();
    daemons.push(d);
  }
}

const cartesian = () => GRID.parameters.lr.values.flatMap((lr) => GRID.parameters.batchSize.values.map((batchSize) => JSON.stringify({ lr, batchSize })));
const paramKey = (p: Record<string, unknown>) => JSON.stringify({ lr: p.lr, batchSize: p.batchSize });

describe("sweeps across server restarts", () => {
  it("runs a grid's cartesian product exactly once across a kill -9 and restart (SQLite)", { timeout: 90_000 }, async () => {
    const home = tempDir("heron-sweep-restart-");
    const port = await freePort();
    const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
    const first = await spawnServer(home, port, key);
    const api = createApi(first.url, key);
    await api.project.create.mutate({ name: "grid" });
    await startRunners(first.url, api, ["r1", "r2"]);
    const { sweepId } = await api.sweep.create.mutate({ projectId: "grid", sweep: GRID });
    // mid-sweep: some trials done, two running
    await waitFor(
      async () => {
        const s = await api.sweep.get.query({ sweepId });
        return s.trials.filter((t) => t.status === "completed").length >= 2 && s.trials.some((t) => t.jobStatus === "running");
      },
      30_000,
      "the sweep to be half-way",
    );
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await spawnServer(home, port, key);
    expect(second.url).toBe(first.url);
    const done = await waitFor(
      async () => {
        const s = await api.sweep.get.query({ sweepId }).catch(() => null);
        return s?.status === "finished" ? s : null;
      },
      60_000,
      "the sweep to finish after the restart",
    );
    expect(done.trials.map((t) => t.index)).toEqual([...Array(9).keys()]);
    expect(done.trials.map((t) => paramKey(t.params)).sort()).toEqual(cartesian().sort());
    expect(done.trials.map((t) => t.status)).toEqual(Array(9).fill("completed"));
    // one job per point: none was submitted twice for a trial (a duplicate would be cancelled, but listed)
    const jobs = (await api.job.list.query({ projectId: "grid" })).filter((j) => j.group === `sweep-${sweepId}`);
    expect(jobs).toHaveLength(9);
    expect(new Set(done.trials.map((t) => t.jobId)).size).toBe(9);
    expect(new Set(done.trials.map((t) => t.runId)).size).toBe(9);
    second.child.kill("SIGTERM");
    await second.exited;
  });

  describe.skipIf(!pgAndRedis)("two server processes on PostgreSQL + Redis", () => {
    it("only the lease holder acts; killing it hands the sweep to the other process", { timeout: 90_000 }, async () => {
      const { openTestPg, pgTestUrl } = await import("@heron/db/testing/pg");
      const pgDb = await openTestPg(); // migrated here, so the servers don't race to migrate
      const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
      const servers: ServerProcess[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          servers.push(
            await startServerProcess(key, { DATABASE_URL: pgTestUrl(), HERON_TEST_PG_SCHEMA: pgDb.schema, REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: "error" }),
          );
        }
        const holderPid = async () => {
          const row = await pgDb.db.prisma.controllerLease.findUnique({ where: { name: "sweeps" } });
          return row && row.expiresAt.getTime() > Date.now() ? Number(row.holder.split("-")[0]) : null;
        };
        const leaderPid = await waitFor(holderPid, 10_000, "a process to take the sweeps lease");
        const leader = servers.find((s) => s.child.pid === leaderPid)!;
        const follower = servers.find((s) => s.child.pid !== leaderPid)!;
        expect(leader).toBeDefined();
        // runners and the API on the follower: the sweep's trials are still queued by the leader
        await follower.api.project.create.mutate({ name: "duo" });
        await startRunners(follower.url, follower.api, ["d1", "d2"]);
        const sweep = {
          ...GRID,
          method: "random",
          parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" }, batchSize: { values: [32, 64, 128] } },
          maxTrials: 8,
          seed: 3,
        };
        const { sweepId } = await follower.api.sweep.create.mutate({ projectId: "duo", sweep });
        await waitFor(
          async () => (await follower.api.sweep.get.query({ sweepId })).trials.filter((t) => t.status === "completed").length >= 2,
          30_000,
          "two trials to complete under the first leader",
        );
        expect(await holderPid()).toBe(leaderPid);
        leader.child.kill("SIGKILL");
        const done = await waitFor(
          async () => {
            const s = await follower.api.sweep.get.query({ sweepId });
            return s.status === "finished" ? s : null;
          },
          45_000,
          "the other process to take over and finish the sweep",
        );
        expect(await holderPid()).toBe(follower.child.pid);
        expect(done.trials.map((t) => t.index)).toEqual([...Array(8).keys()]);
        expect(done.trials.map((t) => t.status)).toEqual(Array(8).fill("completed"));
        const jobs = (await follower.api.job.list.query({ projectId: "duo" })).filter((j) => j.group === `sweep-${sweepId}`);
        // one job per trial, each leased once: nothing queued or dispatched twice
        expect(jobs).toHaveLength(8);
        expect(jobs.map((j) => j.attempts)).toEqual(Array(8).fill(1));
        expect(new Set(done.trials.map((t) => t.jobId)).size).toBe(8);
      } finally {
        await Promise.allSettled(daemons.splice(0).map((d) => d.stop()));
        await Promise.allSettled(servers.map((s) => s.close()));
        await pgDb.drop();
      }
    });
  });
});
