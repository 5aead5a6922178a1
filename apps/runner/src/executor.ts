import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Lease } from "@heron/core";

export type LogSink = (stream: "stdout" | "stderr", line: string) => void;
export type ExecutionHandle = {
  /** SIGTERM first; the daemon sends SIGKILL after its grace period */
  kill(signal: NodeJS.Signals): void;
  done: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
};

/** How a leased job is executed. Tests swap in a fast fake; production runs a child process. */
export type Executor = {
  start(lease: Lease, ctx: { serverUrl: string; checkpointDir: string; onLog: LogSink }): ExecutionHandle;
};

const JOB_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), "job-process.ts");

/** Each job in its own child process (node + tsx), so a crashing job never takes the daemon down. */
export function createProcessExecutor(): Executor {
  return {
    start(lease, ctx) {
      const child = spawn(process.execPath, ["--import", "tsx", JOB_ENTRY], {
        env: {
          ...process.env,
          HERON_HOST: ctx.serverUrl,
          HERON_API_KEY: lease.jobToken,
          HERON_LEASE: JSON.stringify({ jobId: lease.jobId, runId: lease.runId, projectName: lease.projectName, attempt: lease.attempt, spec: lease.spec }),
          HERON_CHECKPOINT_DIR: ctx.checkpointDir,
        },
        stdio: ["ignore", "pipe", "pipe"],
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
      const done = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on("exit", (exitCode, signal) => resolve({ exitCode, signal }));
        child.on("error", () => resolve({ exitCode: -1, signal: null }));
      });
      return { kill: (signal) => child.kill(signal), done };
    },
  };
}
