import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * A run directory: `run.json` (what `heron sync` needs to create the run on a server),
 * `wal/<writer>.<seq>.jsonl` (the write-ahead log of each writer process) and
 * `wal/<writer>.meta.json` (rank, pid, how it ended).
 */
export type RunMeta = {
  id: string;
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  group?: string;
  notes?: string;
  host: string;
  mode: "online" | "offline";
  startedAt: number;
  environment?: Record<string, unknown>;
};

export type WriterMeta = {
  rank: number;
  pid?: number;
  startedAt?: number;
  lastStep?: number;
  state?: string;
  endedAt?: number;
  /** highest seq the server acknowledged, as last known here (all of it: nothing to upload) */
  ackedSeq?: number;
};

/** run ids are made on the client so offline runs and runs started while the server is down have one */
export function newRunId(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.randomBytes(20);
  let id = "r";
  for (const b of bytes) id += alphabet[b % 36];
  return id;
}

export function newWriterId(rank: number): string {
  return `${rank}-${crypto.randomBytes(6).toString("hex")}`;
}

export function defaultRunDir(id: string, home = process.env.HERON_HOME ?? ".heron"): string {
  return path.resolve(home, "runs", id);
}

function writeJson(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1));
  fs.renameSync(tmp, file);
}

export function writeRunMeta(dir: string, meta: RunMeta): void {
  writeJson(path.join(dir, "run.json"), meta);
}

export function readRunMeta(dir: string): RunMeta | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as RunMeta;
  } catch {
    return null;
  }
}

export function writeWriterMeta(dir: string, writer: string, meta: WriterMeta): void {
  const file = path.join(dir, "wal", `${writer}.meta.json`);
  writeJson(file, { ...readWriterMeta(dir, writer), ...meta });
}

export function readWriterMeta(dir: string, writer: string): WriterMeta | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "wal", `${writer}.meta.json`), "utf8")) as WriterMeta;
  } catch {
    return null;
  }
}

/** whether a process with this pid is alive (a writer still logging must not be synced under it) */
export function processAlive(pid: number | undefined): boolean {
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
