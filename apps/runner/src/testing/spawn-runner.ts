import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, "..", "cli.ts");
const EXIT_WITH_PARENT = path.join(HERE, "exit-with-parent.ts");

export type RunnerProcess = { child: ChildProcess; output: string[]; registered: Promise<void>; exited: Promise<number | null> };

/**
 * Starts a runner daemon as its own OS process (the CLI), so tests can SIGKILL it like a
 * host dying. `fakeJobMs` runs every job as an in-process sleep instead of a real job.
 */
export function spawnRunner(o: {
  server: string;
  token: string;
  name: string;
  home: string;
  slots?: number;
  queues?: string[];
  fakeJobMs?: number;
  /** --allow-commands: run command jobs */
  allowCommands?: boolean;
}): RunnerProcess {
  const args = [
    "--import",
    "tsx",
    "--import",
    EXIT_WITH_PARENT,
    CLI,
    "--server",
    o.server,
    "--token",
    o.token,
    "--name",
    o.name,
    "--home",
    o.home,
    "--slots",
    String(o.slots ?? 1),
    "--queues",
    (o.queues ?? ["default"]).join(","),
    ...(o.allowCommands ? ["--allow-commands"] : []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "info" };
  if (o.fakeJobMs !== undefined) env.HERON_RUNNER_FAKE_JOB_MS = String(o.fakeJobMs);
  else delete env.HERON_RUNNER_FAKE_JOB_MS;
  // stdin: a pipe the runner watches (exit-with-parent.ts)
  const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  const output: string[] = [];
  let onRegistered: () => void = () => undefined;
  const registered = new Promise<void>((resolve) => (onRegistered = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n").filter(Boolean)) {
        output.push(line);
        if (line.includes("runner registered")) onRegistered();
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, registered, exited };
}
