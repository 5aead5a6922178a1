import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { CommandSpecSchema, type Lease } from "@heron/core";

import { containedPath } from "./contained-path";
import type { ExecutionContext, ExecutionHandle, ExecutionResult, Executor, LogSink } from "./executor";
import { jobProcessEnv } from "./job-env";

/** exit code reported when the program could not be started at all (as a shell would say "not found") */
const EXIT_NOT_STARTED = 127;

/** process groups of commands still running: killed if the daemon itself exits */
const live = new Set<number>();
let exitHook = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    // the whole group: a script's own children (data loaders, torchrun workers) stop with it
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** lines of a stream into the run's log; a progress bar's \r redraws keep only their last state */
export function pipeLines(stream: NodeJS.ReadableStream | null, name: "stdout" | "stderr", sink: LogSink) {
  let rest = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) sink(name, line.slice(line.lastIndexOf("\r") + 1).slice(0, 10_000));
  });
  stream?.on("end", () => rest && sink(name, rest.slice(0, 10_000)));
}

/** The working directory of a command job: HERON_HOME/work/<jobId>[/<spec cwd>], never outside it. */
export function commandWorkDir(home: string, jobId: string, cwd: string | undefined): string {
  const root = containedPath(home, "work", jobId);
  const dir = cwd ? path.resolve(root, cwd) : root;
  if (dir !== root && !dir.startsWith(root + path.sep)) throw new Error(`cwd ${JSON.stringify(cwd)} refused: it must lie inside ${root}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The environment of a command job: the allowlist, the job's credentials and run, then the spec's own variables. */
export function commandEnv(
  parent: NodeJS.ProcessEnv,
  lease: Lease,
  ctx: Pick<ExecutionContext, "serverUrl" | "checkpointDir">,
  specEnv: Record<string, string> = {},
) {
  return {
    // Python buffers stdout when it is a pipe: the run's log would show nothing until exit
    PYTHONUNBUFFERED: "1",
    ...specEnv,
    ...jobProcessEnv(parent, lease, ctx),
    HERON_RUN_ID: lease.runId,
    // a requeued attempt: the script may resume from its own checkpoint (HERON_CHECKPOINT_DIR)
    ...(lease.attempt > 1 ? { HERON_RESUME: "1" } : {}),
  };
}

function runCommand(lease: Lease, ctx: ExecutionContext, home: string): ExecutionHandle {
  const spec = CommandSpecSchema.parse(lease.spec);
  let cwd: string;
  try {
    cwd = commandWorkDir(home, lease.jobId, spec.cwd);
  } catch (err) {
    ctx.onLog("stderr", `[runner] ${(err as Error).message}`);
    return { kill: () => undefined, done: Promise.resolve({ exitCode: EXIT_NOT_STARTED, signal: null }) };
  }
  ctx.onLog("stdout", `[runner] $ ${spec.command.map((a) => (/^[\w./=:,@+-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}  (in ${cwd})`);
  // argv, never a shell: nothing in an argument is interpreted
  const child = spawn(spec.command[0]!, spec.command.slice(1), {
    cwd,
    env: commandEnv(process.env, lease, ctx, spec.env),
    stdio: ["ignore", "pipe", "pipe"],
    // its own process group, so cancel reaches the program's children too
    detached: true,
  });
  if (child.pid) live.add(child.pid);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const pid of live) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    });
  }
  pipeLines(child.stdout, "stdout", ctx.onLog);
  pipeLines(child.stderr, "stderr", ctx.onLog);
  const done = new Promise<ExecutionResult>((resolve) => {
    child.on("close", (exitCode, signal) => {
      if (child.pid) live.delete(child.pid);
      resolve({ exitCode, signal });
    });
    child.on("error", (err) => {
      ctx.onLog("stderr", `[runner] cannot start ${JSON.stringify(spec.command[0])}: ${err.message}`);
      resolve({ exitCode: EXIT_NOT_STARTED, signal: null });
    });
  });
  return { kill: (signal) => killGroup(child, signal), done };
}

/**
 * Routes command jobs (kind "command") to a child process running the spec's argv, and every
 * other kind to `inner`. Without allowCommands a command job that reaches this runner anyway
 * (the server should not grant one) fails at once without running anything.
 */
export function withCommandJobs(inner: Executor, opts: { home: string; allowCommands: boolean }): Executor {
  return {
    start(lease, ctx) {
      if ((lease.spec as { kind: string }).kind !== "command") return inner.start(lease, ctx);
      if (!opts.allowCommands) {
        ctx.onLog("stderr", "[runner] this runner does not run command jobs (start it with --allow-commands)");
        return { kill: () => undefined, done: Promise.resolve({ exitCode: EXIT_NOT_STARTED, signal: null }) };
      }
      return runCommand(lease, ctx, opts.home);
    },
  };
}
