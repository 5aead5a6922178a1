import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const MAX_DIFF_BYTES = 100 * 1024;

/** The tfjs engine registers itself on the global object; reading it never loads tfjs. */
export function readTfjs(): { backend: string | null; numBytes: number; numTensors: number } | null {
  const engine = (globalThis as { _tfengine?: { backendName?: string; memory(): { numBytes: number; numTensors: number } } })._tfengine;
  if (!engine) return null;
  try {
    const m = engine.memory();
    return { backend: engine.backendName ?? null, numBytes: m.numBytes, numTensors: m.numTensors };
  } catch {
    return null; // no backend initialised yet
  }
}

function git(cwd: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", timeout: 3_000, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 16 * 1024 * 1024 }).trim();
  } catch {
    return null;
  }
}

function captureGit(cwd: string) {
  const commit = git(cwd, ["rev-parse", "HEAD"]);
  if (!commit) return null;
  const status = git(cwd, ["status", "--porcelain", "--untracked-files=no"]) ?? "";
  let diff = status ? (git(cwd, ["diff", "HEAD"]) ?? "") : "";
  const diffTruncated = diff.length > MAX_DIFF_BYTES;
  if (diffTruncated) diff = diff.slice(0, MAX_DIFF_BYTES);
  return {
    remote: git(cwd, ["config", "--get", "remote.origin.url"]),
    branch: git(cwd, ["rev-parse", "--abbrev-ref", "HEAD"]),
    commit,
    dirty: status.length > 0,
    ...(diff ? { diff, diffTruncated } : {}),
  };
}

/** versions actually installed for the nearest package.json's dependencies */
function captureDependencies(cwd: string): Record<string, string> | null {
  let dir = cwd;
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
        const out: Record<string, string> = {};
        for (const [name, range] of Object.entries({ ...pkg.devDependencies, ...pkg.dependencies })) out[name] = installedVersion(dir, name) ?? range;
        return out;
      } catch {
        return null;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function installedVersion(from: string, name: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")) as { version?: string }).version ?? null;
    } catch {
      if (path.dirname(dir) === dir) return null;
    }
  }
}

/** What reproduces a run: runtime, host, command line, code version, dependencies. */
export function captureEnvironment(opts: { git?: boolean; dependencies?: boolean } = {}): Record<string, unknown> {
  const cwd = process.cwd();
  const tfjs = readTfjs();
  return {
    node: process.version,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    cwd,
    argv: process.argv,
    pid: process.pid,
    ...(opts.git !== false ? { git: captureGit(cwd) } : {}),
    ...(opts.dependencies !== false ? { dependencies: captureDependencies(cwd) } : {}),
    tfjsBackend: tfjs?.backend ?? null,
  };
}
