/**
 * Checkpoints: `<dir>/ckpt-<step>/{meta.json,tensors.bin}` — weights + optimizer slots as
 * raw little-endian float32 in one file, everything else (step, epoch, position in the
 * epoch's data order, seed, spec) as JSON. Written to a temp folder and renamed, so a
 * crash mid-write never leaves a "latest" checkpoint that cannot be read. The two newest
 * are kept. Data order and dropout masks are pure functions of (seed, epoch, step), so
 * the position fully restores the RNG state.
 *
 * A checkpoint may leave tensors out (`refs`: frozen weights another job's checkpoint holds,
 * see stage-init.ts): its `manifest.json` lists every model tensor with its shape and, for
 * each left out, `{jobId, step}` of the checkpoint holding it under
 * `<HERON_HOME>/checkpoints/<jobId>/ckpt-<step>/`. Reading follows those references, so a
 * loaded checkpoint always holds the full model.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

import type { CheckpointManifest, TensorRef } from "../schemas/training-fields";

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
  /** tensor shapes by name for the manifest (default: flat, [length]) */
  shapes?: Record<string, number[]>;
  /**
   * model tensors NOT stored in this checkpoint, by name → the checkpoint holding them. On
   * read, their values are in `weights` as well (followed), and `refs` says where they came from.
   */
  refs?: Record<string, TensorRef>;
};

type Meta = Omit<CheckpointState, "weights" | "optimizer" | "shapes"> & {
  version: 1;
  optimizerStep: number;
  tensors: { group: "w" | "o"; name: string; offset: number; length: number }[];
  bytes: number;
};

const KEEP = 2;
/** folder name of the checkpoint at `step` */
export const checkpointDirName = (step: number) => `ckpt-${String(step).padStart(9, "0")}`;
const dirName = checkpointDirName;
/** a reference chain longer than this is a cycle or corruption, not a pipeline */
const MAX_REF_DEPTH = 16;

function manifestOf(s: CheckpointState): CheckpointManifest {
  const shape = (name: string, fallback?: number) => s.shapes?.[name] ?? (fallback === undefined ? [] : [fallback]);
  return {
    version: 1,
    step: s.step,
    model: s.model,
    tensors: [
      ...Object.entries(s.weights).map(([name, a]) => ({ name, shape: shape(name, a.length) })),
      ...Object.entries(s.refs ?? {}).map(([name, ref]) => ({ name, shape: shape(name), ref })),
    ],
  };
}

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
    refs: s.refs && Object.keys(s.refs).length ? s.refs : undefined,
    optimizerStep: s.optimizer.step,
    tensors,
    bytes: buf.byteLength,
  };
  const final = join(dir, dirName(s.step));
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileSync(join(tmp, "tensors.bin"), new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  writeFileSync(join(tmp, "manifest.json"), JSON.stringify(manifestOf(s)));
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

/**
 * Reads `<path>/{meta.json,tensors.bin}` and follows references to tensors stored by other
 * jobs' checkpoints (siblings of this job's folder, as the runner lays them out).
 */
export function readCheckpoint(path: string, depth = 0): CheckpointState {
  const meta = JSON.parse(readFileSync(join(path, "meta.json"), "utf8")) as Meta;
  if (meta.version !== 1) throw new Error(`${path}: unsupported checkpoint version ${String(meta.version)}`);
  const bin = readFileSync(join(path, "tensors.bin"));
  if (bin.length !== meta.bytes) throw new Error(`${path}: tensors.bin has ${bin.length} bytes, meta says ${meta.bytes}`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const weights: Record<string, Float32Array> = {};
  const slots: Record<string, Float32Array> = {};
  for (const t of meta.tensors) (t.group === "w" ? weights : slots)[t.name] = all.subarray(t.offset, t.offset + t.length);
  if (meta.refs) Object.assign(weights, followRefs(path, meta.refs, depth));
  return {
    step: meta.step,
    epoch: meta.epoch,
    stepInEpoch: meta.stepInEpoch,
    seed: meta.seed,
    model: meta.model,
    extra: meta.extra,
    refs: meta.refs,
    weights,
    optimizer: { step: meta.optimizerStep, slots },
  };
}

/** values of the referenced tensors, read from `<checkpoints root>/<jobId>/ckpt-<step>` */
function followRefs(path: string, refs: Record<string, TensorRef>, depth: number): Record<string, Float32Array> {
  if (depth >= MAX_REF_DEPTH) throw new Error(`${path}: tensor references nest deeper than ${MAX_REF_DEPTH} checkpoints`);
  const root = dirname(dirname(path));
  const cache = new Map<string, CheckpointState>();
  const out: Record<string, Float32Array> = {};
  for (const [name, ref] of Object.entries(refs)) {
    const target = join(root, ref.jobId, dirName(ref.step));
    let ck = cache.get(target);
    if (!ck) {
      if (!existsSync(join(target, "meta.json")))
        throw new Error(
          `${path}: tensor ${name} is kept by job ${ref.jobId}'s checkpoint at step ${ref.step}, which is not on this host (looked in ${target}); ` +
            `a runner fetches the checkpoints of every earlier stage (init.sources) before the job starts`,
        );
      ck = readCheckpoint(target, depth + 1);
      cache.set(target, ck);
    }
    const a = ck.weights[name];
    if (!a) throw new Error(`${path}: tensor ${name} is referenced to ${target}, which does not hold it`);
    out[name] = a;
  }
  return out;
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
