// Metrics benchmark: `npm run bench -- metrics` (or `npx tsx bench/metrics.ts`).
//
// SQLite, then PostgreSQL (skipped with a note when unreachable):
//  - ingest 1,000,000 points (10 runs × 10 keys × 10,000 steps) through the real path:
//    socket.io clients in a child process (one connection per run, like 10 training
//    processes) → the Heron server started in-process (startServer) → ingest service → store,
//    every batch acked; batches of 10,000 points and 4 in flight per run, as the SDK sends them
//    at full speed (its flushPoints and window defaults).
//  - baseline (SQLite): the same rows through raw better-sqlite3 prepared INSERTs in one
//    transaction into a row-per-point table → ingest_ratio = ours / baseline.
//  - query: one 1,000,000-point series down to 1,000 buckets, 20 different ranges → p50;
//    baseline: reading the full series at full resolution through the same store → speedup.
// The last line is one JSON object. Options: --points-per-batch N, --window N, --rounds N
// (SQLite ingest rounds; medians are reported), --e2e-only (for profiling the server).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type MetricPoint, PROTOCOL_VERSION, type SdkToServer, type ServerToSdk, type WireMetricPoint } from "@heron/core";
import { createMetricsStore, type MetricsStore, openDatabase } from "@heron/db";
import { pgTestUrl } from "@heron/db/testing/pg-probe";
import { startServer } from "@heron/web/server";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { io as connect, type Socket } from "socket.io-client";

const RUNS = 10;
const KEYS = 10;
const STEPS = 10_000;
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
// the SDK cuts a batch every flushPoints = 10,000 points (or 500 ms) and keeps 4 in flight
const PER_BATCH = arg("--points-per-batch", 10_000);
const WINDOW = arg("--window", 4);
const ROUNDS = arg("--rounds", 3);
const PG_URL = pgTestUrl();
const API_KEY = "hk_bench_" + "x".repeat(24);
const T0 = 1.7e12;

const value = (run: number, key: number, step: number) => Math.sin(step / 500 + key) * Math.exp(-step / 5000) + run * 0.01 + ((step * 7919) % 101) / 1000;
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (...a: unknown[]) => console.log(...a);

/** batches for one run: steps in order, every key at each step, PER_BATCH points each */
function* runBatches(run: number): Generator<WireMetricPoint[]> {
  let batch: WireMetricPoint[] = [];
  for (let step = 0; step < STEPS; step++) {
    for (let k = 0; k < KEYS; k++) {
      batch.push({ key: `train/metric_${k}`, step, value: value(run, k, step), ts: T0 + step * 100 });
      if (batch.length === PER_BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}

function sqliteBaseline(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-raw-"));
  const db = new BetterSqlite3(path.join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    `CREATE TABLE p ("runId" TEXT NOT NULL, "key" TEXT NOT NULL, "step" BIGINT NOT NULL, "value" REAL, "ts" REAL NOT NULL, PRIMARY KEY ("runId","key","step"))`,
  );
  const ins = db.prepare(`INSERT INTO p VALUES (?,?,?,?,?)`);
  const t = process.hrtime.bigint();
  db.transaction(() => {
    for (let r = 0; r < RUNS; r++) for (const b of runBatches(r)) for (const p of b) ins.run(`run${r}`, p.key, p.step, p.value, p.ts);
  })();
  const s = ms(t) / 1000;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (RUNS * KEYS * STEPS) / s;
}

/**
 * The sending side, run in a child process (`--client <url>`) like real training processes:
 * one socket.io connection per run, batches pipelined (WINDOW in flight per connection), every
 * batch acked. Prints {"seconds":…,"written":…}.
 */
async function clientMain(url: string) {
  const sockets: Socket[] = [];
  const runs: { socket: Socket<ServerToSdk, SdkToServer>; runId: string; batches: WireMetricPoint[][] }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const socket: Socket<ServerToSdk, SdkToServer> = connect(url, { path: "/socket.io", auth: { token: API_KEY }, transports: ["websocket"] });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    sockets.push(socket);
    const ack = await socket.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "bench", name: `bench-${r}` });
    if (!ack.ok) throw new Error(ack.error);
    runs.push({ socket, runId: ack.runId, batches: [...runBatches(r)] });
  }
  let written = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    runs.map(async (run) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: WINDOW }, async () => {
          while (next < run.batches.length) {
            const seq = ++next;
            const ack = await run.socket.emitWithAck("run:log", {
              v: PROTOCOL_VERSION,
              runId: run.runId,
              seq,
              writer: "0",
              points: run.batches[seq - 1]!,
            });
            if (!ack.ok) throw new Error(ack.error);
            written += ack.written;
          }
        }),
      );
    }),
  );
  const seconds = ms(t) / 1000;
  for (const s of sockets) s.close();
  console.log(JSON.stringify({ seconds, written }));
}

/** the real path: socket.io client (child process) → server → store, each batch acked */
async function ingestE2E(opts: { databaseUrl?: string; pgSchema?: string }) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-"));
  const server = await startServer({
    HERON_HOME: home,
    PORT: 0,
    HOST: "127.0.0.1",
    DATABASE_URL: opts.databaseUrl,
    pgSchema: opts.pgSchema,
    HERON_BOOTSTRAP_API_KEY: API_KEY,
    dashboard: false,
    logger: pino({ level: "warn" }),
  });
  try {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--client", server.url, "--points-per-batch", String(PER_BATCH), "--window", String(WINDOW)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0) throw new Error(`bench client exited with ${code}: ${out}`);
    const { seconds, written } = JSON.parse(out.trim().split("\n").at(-1)!) as { seconds: number; written: number };
    if (written !== RUNS * KEYS * STEPS) throw new Error(`wrote ${written} points, expected ${RUNS * KEYS * STEPS}`);
    return { pointsPerS: (RUNS * KEYS * STEPS) / seconds, seconds };
  } finally {
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** store-level ingest (no network) of the same batches: where the time goes */
async function ingestStore(store: MetricsStore) {
  const t = process.hrtime.bigint();
  for (let r = 0; r < RUNS; r++) for (const b of runBatches(r)) await store.write(`store-run${r}`, b as MetricPoint[]);
  return (RUNS * KEYS * STEPS) / (ms(t) / 1000);
}

async function queries(store: MetricsStore) {
  const N = 1_000_000;
  const runId = "big";
  for (let i = 0; i < N; i += 50_000) {
    const pts: MetricPoint[] = [];
    for (let s = i; s < i + 50_000; s++) pts.push({ key: "loss", step: s, value: value(0, 0, s) + (s % 9973 === 0 ? 50 : 0), ts: T0 + s });
    await store.write(runId, pts);
  }
  // 20 ranges: the whole series, then random windows from 2% to 100% of it (seeded)
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const ranges: { stepMin?: number; stepMax?: number }[] = [{}];
  while (ranges.length < 20) {
    const width = Math.floor(N * (0.02 + 0.98 * rand()));
    const a = Math.floor(rand() * (N - width));
    ranges.push({ stepMin: a, stepMax: a + width });
  }
  for (const r of ranges.slice(0, 3)) await store.series({ runId, key: "loss", maxPoints: 1000, ...r }); // warm
  const times: number[] = [];
  let rows = 0;
  for (const r of ranges) {
    const t = process.hrtime.bigint();
    const s = await store.series({ runId, key: "loss", maxPoints: 1000, ...r });
    times.push(ms(t));
    rows += s.steps.length;
    if (!s.bucketed || s.steps.length > 1000) throw new Error("expected ≤ 1000 buckets");
  }
  const full: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    const s = await store.series({ runId, key: "loss", maxPoints: N });
    full.push(ms(t));
    if (s.steps.length !== N) throw new Error(`full read returned ${s.steps.length}`);
  }
  return { p50: median(times), p90: [...times].sort((a, b) => a - b)[17]!, fullMs: median(full), avgBuckets: rows / ranges.length };
}

async function withStore<T>(opts: { databaseUrl?: string; pgSchema?: string }, fn: (s: MetricsStore) => Promise<T>): Promise<T> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-bench-store-"));
  const db = await openDatabase({ home, databaseUrl: opts.databaseUrl, pgSchema: opts.pgSchema });
  try {
    return await fn(createMetricsStore(db));
  } finally {
    await db.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function pgReachable() {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

if (process.argv.includes("--client")) {
  await clientMain(process.argv[process.argv.indexOf("--client") + 1]!);
  process.exit(0);
}

log(
  `metrics bench: ${RUNS} runs × ${KEYS} keys × ${STEPS} steps, ${PER_BATCH} points per batch, window ${WINDOW} per run; ${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(2)}`,
);
if (process.argv.includes("--e2e-only")) {
  // for profiling the server side: node --cpu-prof --import tsx bench/metrics.ts --e2e-only
  const e = await ingestE2E({});
  log(`sqlite e2e ingest: ${Math.round(e.pointsPerS)} points/s`);
  process.exit(0);
}
// The machine is shared and noisy: alternate baseline and e2e rounds and compare medians, so
// both sides see the same background load.
const baselines: number[] = [];
const e2es: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  baselines.push(sqliteBaseline());
  e2es.push((await ingestE2E({})).pointsPerS);
  log(
    `round ${round}: sqlite baseline (raw prepared INSERTs, one transaction) ${Math.round(baselines.at(-1)!)} points/s; e2e (socket.io → server → store, acked) ${Math.round(e2es.at(-1)!)} points/s`,
  );
}
const baseline = median(baselines);
const e2e = { pointsPerS: median(e2es) };
log(`sqlite medians: baseline ${Math.round(baseline)}, e2e ${Math.round(e2e.pointsPerS)} points/s → ratio ${(e2e.pointsPerS / baseline).toFixed(2)}`);
const sq = await withStore({}, async (store) => ({ storeRate: await ingestStore(store), q: await queries(store) }));
log(`sqlite store-level ingest: ${Math.round(sq.storeRate)} points/s`);
log(
  `sqlite query 1M → 1000 buckets: p50 ${sq.q.p50.toFixed(2)} ms, p90 ${sq.q.p90.toFixed(2)} ms (avg ${Math.round(sq.q.avgBuckets)} buckets); full read ${sq.q.fullMs.toFixed(1)} ms → speedup ${(sq.q.fullMs / sq.q.p50).toFixed(1)}`,
);

let pgIngest: number | null = null;
let pgP50: number | null = null;
if (await pgReachable()) {
  const schema = "bench_" + process.pid;
  try {
    const pe = await ingestE2E({ databaseUrl: PG_URL, pgSchema: schema });
    pgIngest = pe.pointsPerS;
    log(`pg e2e ingest: ${Math.round(pe.pointsPerS)} points/s (${pe.seconds.toFixed(2)} s)`);
  } finally {
    await dropSchema(schema);
  }
  try {
    const pq = await withStore({ databaseUrl: PG_URL, pgSchema: schema }, async (store) => ({ storeRate: await ingestStore(store), q: await queries(store) }));
    pgP50 = pq.q.p50;
    log(`pg store-level ingest: ${Math.round(pq.storeRate)} points/s`);
    log(
      `pg query 1M → 1000 buckets: p50 ${pq.q.p50.toFixed(2)} ms, p90 ${pq.q.p90.toFixed(2)} ms; full read ${pq.q.fullMs.toFixed(1)} ms → speedup ${(pq.q.fullMs / pq.q.p50).toFixed(1)}`,
    );
  } finally {
    await dropSchema(schema);
  }
} else log(`PostgreSQL at ${PG_URL} unreachable: pg numbers are null`);

const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
console.log(
  JSON.stringify({
    bench: "metrics",
    ingest_points_per_s: Math.round(e2e.pointsPerS),
    ingest_ratio: r2(e2e.pointsPerS / baseline),
    query_p50_ms: r2(sq.q.p50),
    query_speedup: r2(sq.q.fullMs / sq.q.p50),
    pg_ingest_points_per_s: pgIngest === null ? null : Math.round(pgIngest),
    pg_query_p50_ms: r2(pgP50),
  }),
);
process.exit(0);
