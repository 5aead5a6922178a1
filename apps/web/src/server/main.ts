// `tsx apps/web/src/server/main.ts` — the server alone (npm start also launches a local runner).
import { startServer } from "./create-server";

const server = await startServer({ dev: process.argv.includes("--dev") });
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
