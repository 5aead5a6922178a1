// `npm run runner -- --server URL --token T [--name N] [--queues a,b] [--slots auto|N]`
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { RunnerDaemon } from "./daemon";
import { createProcessExecutor } from "./executor";
import { createLogger } from "./logger";

const program = new Command("heron-runner")
  .description("Heron runner daemon: claims jobs from a Heron server and runs them")
  .requiredOption("--server <url>", "Heron server URL", process.env.HERON_SERVER)
  .requiredOption("--token <token>", "runner token (create one with runner.createToken or `npx heron runner-token`)", process.env.HERON_RUNNER_TOKEN)
  .option("--name <name>", "runner name shown in the dashboard")
  .option("--queues <list>", "comma-separated queues to take work from", "default")
  .option("--slots <n>", "concurrent jobs: auto (one per GPU, 1 on CPU hosts) or a number", (v) => {
    if (v === "auto") return v;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("--slots must be auto or a positive integer");
    return n;
  }, "auto")
  .option("--home <dir>", "where checkpoints live", process.env.HERON_HOME ?? "./.heron");

program.parse();
const opts = program.opts<{ server: string; token: string; name?: string; queues: string; slots: number | "auto"; home: string }>();
const logger = createLogger("heron-runner");
const daemon = new RunnerDaemon({
  server: opts.server,
  token: opts.token,
  name: opts.name,
  queues: opts.queues.split(",").map((q) => q.trim()).filter(Boolean),
  slots: opts.slots,
  home: path.resolve(opts.home),
  executor: createProcessExecutor(),
  logger,
});

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    logger.info({ sig }, "stopping");
    void daemon.stop().then(() => process.exit(0));
  });
}

daemon.start().catch((err: Error) => {
  logger.error(err.message);
  process.exit(1);
});
