import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Lease } from "@heron/core";

import { jobProcessEnv } from "./job-env";

export type LogSink = (stream: "stdout" | "stderr", line: string) => void;
export type ExecutionResult = { exitCode: number | null; signal: NodeJS.Signals | null };
export type ExecutionHandle = {
  /** SIGTERM first (the job checkpoints and stops); the daemon sends SIGKILL after its grace period */
  kill(signal: NodeJS.Signals): void;
  done: Promise<ExecutionResult>;
};
export type ExecutionContext = {
  serverUrl: string;
  /** this job's checkpoint folder under the runner's HERON_HOME (already holds the server's newest checkpoint) */
  checkpointDir: string;
  /** CPU cores granted to this job's slot (HERON_CPU_THREADS: what `threads: "auto"` uses) */
  cpuThreads: number;
  onLog: LogSink;
  /** drops the run's points after `step` (fenced by the daemon with the lease's token) */
  rewind(step: number): Promise<void>;
};

/** How a leased job is executed. Tests swap in a fast fake; production runs a child process. */
export type Executor = {
  start(lease: Lease, ctx: ExecutionContext): ExecutionHandle;
};

/** job-process exit codes the daemon understands */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
/** stopped by SIGTERM before completing (cancel or drain): a checkpoint was written */
export const EXIT_STOPPED = 3;

const JOB_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), "job-process.ts");

/** Messages on the job process's IPC channel. */
export type JobToDaemon = { type: "rewind"; id: number; step: number };
export type DaemonToJob = { type: "rewound"; id: number; error?: string };

/**
 * Each job in its own child process (node + tsx), so a crashing job never takes the daemon
 * down. An IPC channel carries the job's rewind request (the daemon holds the fencing token)
 * and tells the job when its daemon dies (it then stops: nobody could report for it).
 */
export function createProcessExecutor(): Executor {
  return {
    start(lease, ctx) {
      // the job runs from this checkout's sources (tsx): so do the workspace packages it imports
      const child = spawn(process.execPath, ["--conditions=heron-source", "--import", "tsx", JOB_ENTRY], {
        // an allowlist of the daemon's environment: never its runner token or database URL
        env: jobProcessEnv(process.env, lease, ctx),
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      });
      child.on("message", (m: JobToDaemon) => {
        if (m?.type !== "rewind") return;
        ctx.rewind(m.step).then(
          () => child.connected && child.send({ type: "rewound", id: m.id } satisfies DaemonToJob),
          (err: Error) => child.connected && child.send({ type: "rewound", id: m.id, error: err.message } satisfies DaemonToJob),
        );
      });
      const pipe = (stream: NodeJS.ReadableStream | null, name: "stdout" | "stderr") => {
        let rest = "";
        stream?.setEncoding("utf8");
        stream?.on("data", (chunk: string) => {
          const parts = (rest + chunk).split("\n");
          rest = parts.pop() ?? "";
          // progress bars redraw with \r: keep only their last state
          for (const line of parts) ctx.onLog(name, line.slice(line.lastIndexOf("\r") + 1));
        });
        stream?.on("end", () => rest && ctx.onLog(name, rest));
      };
      pipe(child.stdout, "stdout");
      pipe(child.stderr, "stderr");
      const done = new Promise<ExecutionResult>((resolve) => {
        // "close" (not "exit"): stdout/stderr are fully read, so the log tail is complete
        child.on("close", (exitCode, signal) => resolve({ exitCode, signal }));
        child.on("error", (err) => {
          ctx.onLog("stderr", `cannot start the job process: ${err.message}`);
          resolve({ exitCode: -1, signal: null });
        });
      });
      return { kill: (signal) => void child.kill(signal), done };
    },
  };
}
