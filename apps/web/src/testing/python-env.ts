import { spawn, type SpawnOptions } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
export const PY_CLIENT = path.join(REPO_ROOT, "clients/python");

export type Exit = { code: number | null; stdout: string; stderr: string; ms: number };

/** Runs a process to its end, collecting its output (never through a shell). */
export function runProcess(cmd: string, args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<Exit> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
    child.once("error", (err) => (clearTimeout(timer), resolve({ code: -1, stdout, stderr: stderr + String(err), ms: Date.now() - started })));
    child.once("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr, ms: Date.now() - started })));
  });
}

/** the last line of a script's stdout, as JSON (the e2e script's result) */
export function lastJson<T>(out: string): T {
  const line = out.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as T;
}

/**
 * A fresh venv (Debian's `python3 -m venv`) with heron-client installed offline, as a user
 * would: `pip install --no-index --no-build-isolation ./clients/python`. Resolves with the
 * venv's python, or a reason it cannot be had (no python3, no venv module). With CI=true a
 * missing Python is a failure, not a skip.
 */
export async function createClientVenv(): Promise<{ python: string; dir: string } | { skip: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-venv-"));
  const venv = await runProcess("python3", ["-m", "venv", dir], { timeoutMs: 60_000 });
  let why: string | null = null;
  if (venv.code !== 0) why = `python3 -m venv failed (install python3 and python3-venv): ${venv.stderr.trim().slice(0, 300) || `exit ${venv.code}`}`;
  else {
    const pip = await runProcess(path.join(dir, "bin/pip"), ["install", "-q", "--no-index", "--no-build-isolation", PY_CLIENT], {
      cwd: REPO_ROOT,
      timeoutMs: 120_000,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
    });
    // the client's own packaging is under test here: this is a failure, never a skip
    if (pip.code !== 0) throw new Error(`pip install ./clients/python failed:\n${pip.stdout}\n${pip.stderr}`);
  }
  if (why) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (process.env.CI === "true") throw new Error(`CI=true but Python is unusable: ${why}`);
    return { skip: why };
  }
  return { python: path.join(dir, "bin/python"), dir };
}
