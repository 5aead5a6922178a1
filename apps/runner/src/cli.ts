// `npm run runner -- --server URL --token T [--name N] [--queues a,b] [--slots auto|N] [--cores N]`
import path from "node:path";

import { Command, InvalidArgumentError } from "commander";

import { RunnerDaemon } from "./daemon";
import { createProcessExecutor } from "./executor";
import { createLogger } from "./logger";
import { createFakeExecutor } from "./testing/fake-executor";

const program = new Command("heron-runner")
  .description("Heron runner daemon: claims jobs from a Heron server and runs them")
  .requiredOption("--server <url>", "Heron server URL", process.env.HERON_SERVER)
  .requiredOption("--token <token>", "runner token (create one with runner.createToken or `npx heron runner-token`)", process.env.HERON_RUNNER_TOKEN)
  .option("--name <name>", "runner name shown in the dashboard")
  .option("--queues <list>", "comma-separated queues to take work from", "default")
  .option(
    "--slots <n>",
    "concurrent jobs: auto (one per GPU, 1 on CPU hosts) or a number",
    (v) => {
      if (v === "auto") return v;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("--slots must be auto or a positive integer");
      return n;
    },
    "auto",
  )
  .option(
    "--cores <n>",
    'CPU cores shared among the slots; each job gets cores / slots (its threads: "auto"); default HERON_RUNNER_CORES or every core',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("--cores must be a positive integer");
      return n;
    },
  )
  .option("--home <dir>", "where checkpoints live", process.env.HERON_HOME ?? "./.heron")
  .option("--data-dir <dir>", "the only folder job specs may read files from (data.path, cifarPath); default <home>/data", process.env.HERON_DATA_DIR)
  .option(
    "--drain-grace <seconds>",
    "on SIGTERM: how long running jobs get to checkpoint and stop before they are killed and requeued",
    (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("--drain-grace must be a number of seconds ≥ 0");
      return n;
    },
    30,
  )
  .option("--allow-commands", "also run command jobs: programs (argv) that users of the runner's queues submit; off by default");

program.parse();
const opts = program.opts<{
  server: string;
  token: string;
  name?: string;
  queues: string;
  slots: number | "auto";
  cores?: number;
  home: string;
  dataDir?: string;
  drainGrace: number;
  allowCommands?: boolean;
}>();
const logger = createLogger("heron-runner");
// test-only: HERON_RUNNER_FAKE_JOB_MS runs every job as an in-process sleep (queue tests, benchmarks)
const fakeMs = process.env.HERON_RUNNER_FAKE_JOB_MS ? Number(process.env.HERON_RUNNER_FAKE_JOB_MS) : null;
const daemon = new RunnerDaemon({
  server: opts.server,
  token: opts.token,
  name: opts.name,
  queues: opts.queues
    .split(",")
    .map((q) => q.trim())
    .filter(Boolean),
  slots: opts.slots,
  cores: opts.cores,
  home: path.resolve(opts.home),
  dataDir: opts.dataDir ? path.resolve(opts.dataDir) : undefined,
  executor: fakeMs !== null ? createFakeExecutor({ durationMs: fakeMs }) : createProcessExecutor(),
  logger,
  drainGraceMs: opts.drainGrace * 1000,
  allowCommands: !!opts.allowCommands,
});

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    // first signal drains (jobs checkpoint and are requeued); a second one exits at once
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ sig }, "draining: no new work; running jobs stop and are requeued");
    void daemon.stop().then(() => process.exit(0));
  });
}

daemon.start().catch((err: Error) => {
  logger.error(err.message);
  process.exit(1);
});
