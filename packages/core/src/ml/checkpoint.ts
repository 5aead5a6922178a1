/**
 * Checkpoints: `<dir>/ckpt-<step>/{meta.json,tensors.bin}` — weights + optimizer slots as
 * raw little-endian float32 in one file, everything else (step, epoch, position in the
 * epoch's data order, seed, spec) as JSON. Written to a temp folder and renamed, so a
 * crash mid-write never leaves a "latest" checkpoint that cannot be read. The two newest
 * are kept. Data order and dropout masks are pure functions of (seed, epoch, step), so
 * the position fully restores the RNG state.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type CheckpointState = {
  /** optimizer steps done */
  step: number;
  /** epoch to continue in (0-based) and optimizer steps already done inside it */
  epoch: number;
  stepInEpoch: number;
  seed: number;
  model: string;
  weights: Record<string, Float32Array>;
  optimizer: { step: number; slots: Record<string, Float32Array> };
  /** free-form: spec fingerprint, metrics so far, … */
  extra?: Record<string, unknown>;
};

type Meta = Omit<CheckpointState, "weights" | "optimizer"> & {
  version: 1;
  optimizerStep: number;
  tensors: { group: "w" | "o"; name: string; offset: number; length: number }[];
  bytes: number;
};

const KEEP = 2;
const dirName = (step: number) => `ckpt-${String(step).padStart(9, "0")}`;

export function saveCheckpoint(dir: string, s: CheckpointState): string {
  mkdirSync(dir, { recursive: true });
  const entries = [
    ...Object.entries(s.weights).map(([name, a]) => ({ group: "w" as const, name, a })),
    ...Object.entries(s.optimizer.slots).map(([name, a]) => ({ group: "o" as const, name, a })),
  ];
  const total = entries.reduce((n, e) => n + e.a.length, 0);
  const buf = new Float32Array(total);
  const tensors: Meta["tensors"] = [];
  let off = 0;
  for (const e of entries) {
    buf.set(e.a, off);
    tensors.push({ group: e.group, name: e.name, offset: off, length: e.a.length });
    off += e.a.length;
  }
  const meta: Meta = {
    version: 1,
    step: s.step,
    epoch: s.epoch,
    stepInEpoch: s.stepInEpoch,
    seed: s.seed,
    model: s.model,
    extra: s.extra,
    optimizerStep: s.optimizer.step,
    tensors,
    bytes: buf.byteLength,
  };
  const final = join(dir, dirName(s.step));
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileSync(join(tmp, "tensors.bin"), new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  writeFileSync(join(tmp, "meta.json"), JSON.stringify(meta));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - KEEP))) rmSync(join(dir, old), { recursive: true, force: true });
  return final;
}

/**
 * Complete checkpoint folders, oldest first: `ckpt-<step>` with its meta.json (folders are
 * written under a temp name and renamed, so temp and download folders never match). The one listing of a checkpoint directory: jobs resume from its last entry, the
 * runner uploads it and rewinds a requeued attempt's run to its step.
 */
export function listCheckpointSteps(dir: string): { name: string; step: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: /^ckpt-(\d+)$/.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => !!x.m && existsSync(join(dir, x.name, "meta.json")))
    .map(({ name, m }) => ({ name, step: Number(m[1]) }))
    .sort((a, b) => a.step - b.step);
}

/** complete checkpoint folder names, oldest first */
export function listCheckpoints(dir: string): string[] {
  return listCheckpointSteps(dir).map((c) => c.name);
}

/** step of the newest complete checkpoint in `dir`, or null */
export function latestCheckpointStep(dir: string): number | null {
  return listCheckpointSteps(dir).at(-1)?.step ?? null;
}

export function readCheckpoint(path: string): CheckpointState {
  const meta = JSON.parse(readFileSync(join(path, "meta.json"), "utf8")) as Meta;
  if (meta.version !== 1) throw new Error(`${path}: unsupported checkpoint version ${String(meta.version)}`);
  const bin = readFileSync(join(path, "tensors.bin"));
  if (bin.length !== meta.bytes) throw new Error(`${path}: tensors.bin has ${bin.length} bytes, meta says ${meta.bytes}`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const weights: Record<string, Float32Array> = {};
  const slots: Record<string, Float32Array> = {};
  for (const t of meta.tensors) (t.group === "w" ? weights : slots)[t.name] = all.subarray(t.offset, t.offset + t.length);
  return {
    step: meta.step,
    epoch: meta.epoch,
    stepInEpoch: meta.stepInEpoch,
    seed: meta.seed,
    model: meta.model,
    extra: meta.extra,
    weights,
    optimizer: { step: meta.optimizerStep, slots },
  };
}

/** newest readable checkpoint in `dir`; unreadable ones (e.g. a disk error) are skipped */
export function loadLatestCheckpoint(dir: string, warn: (m: string) => void = () => {}): CheckpointState | undefined {
  const all = listCheckpoints(dir);
  for (let i = all.length - 1; i >= 0; i--) {
    const p = join(dir, all[i]!);
    try {
      if (statSync(p).isDirectory()) return readCheckpoint(p);
    } catch (e) {
      warn(`skipping unreadable checkpoint ${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return undefined;
}
