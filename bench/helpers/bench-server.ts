// The server a benchmark measures through: in this process, on a free loopback port, a fresh
// HERON_HOME under the OS temp folder and a bootstrap admin key; no dashboard (API only).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type HeronServer, startServer } from "@heron/web/server";
import { pino } from "pino";

export type BenchServer = { server: HeronServer; home: string; key: string; auth: { authorization: string } };

export async function startBenchServer(name: string): Promise<BenchServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `heron-bench-${name}-`));
  const key = "hk_bench_" + crypto.randomBytes(12).toString("hex");
  const server = await startServer({
    PORT: 0,
    HOST: "127.0.0.1",
    HERON_HOME: home,
    HERON_BOOTSTRAP_API_KEY: key,
    dashboard: false,
    logger: pino({ level: "warn" }),
  });
  return { server, home, key, auth: { authorization: `Bearer ${key}` } };
}
