// The real server as a child process, for tests that SIGKILL and restart it:
//   node --import tsx apps/web/src/testing/server-process.ts
// with HERON_HOME, PORT, HERON_BOOTSTRAP_API_KEY (and DATABASE_URL, REDIS_URL) in the environment.
// Test-only knobs: HERON_TEST_PG_SCHEMA (a fresh PostgreSQL schema per test), and
// HERON_EXIT_WITH_PARENT=1: exit when stdin closes, i.e. when the test process dies.
// Prints "READY <url>" once it listens.
import { pino } from "pino";

import { startServer } from "../server/create-server";

const server = await startServer({
  dashboard: false,
  HOST: "127.0.0.1",
  pgSchema: process.env.HERON_TEST_PG_SCHEMA || undefined,
  logger: pino({ level: process.env.LOG_LEVEL ?? "warn" }),
});
process.stdout.write(`READY ${server.url}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void server.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (process.env.HERON_EXIT_WITH_PARENT === "1") {
  process.stdin.on("end", stop);
  process.stdin.resume();
}
