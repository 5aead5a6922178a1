import type { Logger } from "pino";

import type { Executor } from "./executor";

/** How a RunnerDaemon is configured (the CLI's flags map onto these). */
export type DaemonOptions = {
  server: string;
  token: string;
  name?: string;
  queues?: string[];
  /** "auto": one per GPU, or 1 on a CPU host */
  slots?: number | "auto";
  /** CPU cores this runner shares among its slots (default: HERON_RUNNER_CORES, else the host's); each job gets ⌊cores / slots⌋ */
  cores?: number;
  home: string;
  /** the only folder job specs may name files in (data.path, cifarPath); default defaultDataDir(home) */
  dataDir?: string;
  executor: Executor;
  logger: Logger;
  /** default: what the server says at hello (a quarter of its lease TTL, ≤ 5 s) */
  heartbeatMs?: number;
  /** cancel: SIGTERM → SIGKILL delay (default 4 s, so a cancel completes within 5 s) */
  killGraceMs?: number;
  /** drain (SIGTERM to the daemon): how long running jobs get to stop before SIGKILL (default 30 s) */
  drainGraceMs?: number;
  /** how often a running job's checkpoint folder is checked for a new checkpoint to upload */
  checkpointSyncMs?: number;
  /** run command jobs (users' own programs; --allow-commands): announced at hello, off by default */
  allowCommands?: boolean;
};
