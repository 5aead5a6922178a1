// The real server as a child process, for tests that SIGKILL and restart it:
//   node --import tsx apps/web/src/testing/server-process.ts
// with HERON_HOME, PORT, HERON_BOOTSTRAP_API_KEY (and DATABASE_URL) in the environment.
// Prints "READY <url>" once it listens.
import { pino } from "pino";
import { startServer } from "../server/create-server";

const server = await startServer({ dashboard: false, HOST: "127.0.0.1", logger: pino({ level: process.env.LOG_LEVEL ?? "warn" }) });
process.stdout.write(`READY ${server.url}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
