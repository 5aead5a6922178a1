/**
 * Memory planner (the four places training memory goes: weights, gradients, optimizer slots, activations), in bytes of float32:
 *   parameters + gradients   2 × P
 *   optimizer state          Adam 2 × P (m, v), SGD+momentum 1 × P, plain SGD 0, plus the
 *                            update's temporaries (~2 copies of the largest parameter)
 *   data batch               B × (input + one-hot label)
 *   activations              what the backward pass keeps alive: ~3 floats per element of
 *                            the input and of every layer's output — the forward value, the
 *                            copy/mask its gradient op saves, and the gradient itself (tfjs
 *                            frees intermediate gradients only when the backward pass ends).
 *                            Fitted on wasm against tf.profile's peak: 2.7–3.1 across the
 *                            seed models at batch 16–1024; the tests hold it to ±25%.
 * Data-parallel jobs (`threads` T > 1, ml/parallel/) add T − 1 replicas, each with its own
 * parameters and gradients, plus the shared memory they meet in (one weight copy, T − 1
 * gradient slots, one batch); activations are split across the replicas' shards.
 * `chooseBatchSize` picks the largest power of two whose total fits 80% of the budget
 * (nvidia-smi's GPU memory, else HERON_MEMORY_BUDGET, else system RAM).
 */
import { execFileSync } from "node:child_process";
import { totalmem } from "node:os";

import type { TrainSpec } from "../schemas/train-spec";
import { describeModel } from "./models/reference-models";

export const DATASET_INPUT_SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  "fashion-mnist": [28, 28, 1],
  cifar10: [32, 32, 3],
  synthetic: [28, 28, 1],
};

const ACTIVATION_COPIES = 3;

/** seed 000's four places training memory goes, in its order */
export type MemoryPart = { part: "params + grads" | "optimizer state" | "batch" | "activations"; bytes: number };

export type MemoryPlan = {
  batchSize: number;
  paramCount: number;
  parametersBytes: number;
  gradientsBytes: number;
  optimizerBytes: number;
  batchBytes: number;
  activationsBytes: number;
  totalBytes: number;
  /** params + grads, optimizer state, batch, activations — they sum to totalBytes */
  parts: MemoryPart[];
  /** how each part was counted, for the table */
  notes: string[];
  table: string;
};

type PlanSpec = Pick<TrainSpec, "model" | "dataset" | "batchSize"> & Partial<Pick<TrainSpec, "optimizer" | "momentum">>;
export type PlanOptions = {
  batchSize?: number;
  inputShape?: [number, number, number];
  numClasses?: number;
  /** data-parallel replicas (1: one thread) */
  threads?: number;
};

export function formatBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

export function planMemory(spec: PlanSpec, opts: PlanOptions = {}): MemoryPlan {
  const batchSize = opts.batchSize ?? (typeof spec.batchSize === "number" ? spec.batchSize : 1);
  const shape = opts.inputShape ?? DATASET_INPUT_SHAPES[spec.dataset] ?? [28, 28, 1];
  const classes = opts.numClasses ?? 10;
  const desc = describeModel(spec.model, shape, classes);
  const F = 4;
  const P = desc.paramCount;
  const optimizer = spec.optimizer ?? "adam";
  const slots = optimizer === "adam" ? 2 : (spec.momentum ?? 0) > 0 ? 1 : 0;
  const inputSize = shape[0] * shape[1] * shape[2];
  const largest = Math.max(...desc.layers.flatMap((l) => l.params.map((p) => p.shape.reduce((a, b) => a * b, 1))), 0);
  const sizes = desc.layers.map((l) => l.outputShape.reduce((a, b) => a * b, 1));
  // a flatten is a reshape (no new buffer worth counting)
  const kept = desc.layers.reduce((a, l, i) => (l.type === "Flatten" ? a : a + sizes[i]!), 0);
  const activationsBytes = batchSize * F * ACTIVATION_COPIES * (inputSize + kept);
  const T = Math.max(1, Math.floor(opts.threads ?? 1));
  const plan = {
    batchSize,
    paramCount: P,
    // T replicas' weights + the shared weight copy the workers read (none with one thread)
    parametersBytes: P * F * (T > 1 ? T + 1 : 1),
    // T replicas' gradients + the T − 1 shared gradient slots
    gradientsBytes: P * F * (T > 1 ? 2 * T - 1 : 1),
    optimizerBytes: slots * P * F + 2 * largest * F,
    batchBytes: batchSize * F * (inputSize + classes) * (T > 1 ? 2 : 1),
    activationsBytes,
    totalBytes: 0,
    parts: [] as MemoryPart[],
    notes: [] as string[],
    table: "",
  };
  plan.totalBytes = plan.parametersBytes + plan.gradientsBytes + plan.optimizerBytes + plan.batchBytes + plan.activationsBytes;
  plan.parts = [
    { part: "params + grads", bytes: plan.parametersBytes + plan.gradientsBytes },
    { part: "optimizer state", bytes: plan.optimizerBytes },
    { part: "batch", bytes: plan.batchBytes },
    { part: "activations", bytes: plan.activationsBytes },
  ];
  plan.notes = [
    T > 1 ? `${P.toLocaleString("en-US")} params × 4 B × 2 × ${T} replicas + shared copies` : `${P.toLocaleString("en-US")} params × 4 B × 2`,
    `${optimizer}${slots ? `, ${slots}× params` : ""} + update temporaries`,
    `${batchSize} × ${shape.join("×")} + labels${T > 1 ? " (+ its shared copy)" : ""}`,
    T > 1 ? `kept for the backward pass, split over ${T} shards` : "kept for the backward pass",
  ];
  plan.table = memoryTable(`memory plan: ${spec.model} on ${spec.dataset}, batch ${batchSize}${T > 1 ? `, ${T} threads` : ""}`, plan);
  return plan;
}

/**
 * The four parts beside the plan's total and, when known, the backend's measured peak of a
 * real training step — the CLI prints it, jobs log it.
 */
export function memoryTable(title: string, plan: Pick<MemoryPlan, "parts" | "totalBytes" | "notes">, measuredPeakBytes?: number): string {
  const rows: [string, number, string][] = plan.parts.map((p, i) => [p.part, p.bytes, plan.notes[i] ?? ""]);
  const pct = (b: number) => `${((100 * b) / Math.max(1, plan.totalBytes)).toFixed(1)}%`.padStart(7);
  const w = Math.max(...rows.map((r) => r[0].length), "measured peak".length) + 2;
  const line = (k: string, v: number, extra: string) => `${k.padEnd(w)}${formatBytes(v).padStart(11)}  ${extra}`.trimEnd();
  const out = [title, ...rows.map(([k, v, note]) => line(k, v, `${pct(v)}  ${note}`)), "-".repeat(w + 20), line("planned total", plan.totalBytes, "")];
  if (measuredPeakBytes !== undefined)
    out.push(
      line("measured peak", measuredPeakBytes, `(${((100 * measuredPeakBytes) / Math.max(1, plan.totalBytes)).toFixed(0)}% of the plan; backend, one step)`),
    );
  return out.join("\n");
}

/** summary keys of a plan (the run page's Memory tab reads them): the total and each part */
export function memorySummary(plan: MemoryPlan): Record<string, number> {
  return {
    planned_bytes: plan.totalBytes,
    planned_params_grads_bytes: plan.parts[0]!.bytes,
    planned_optimizer_bytes: plan.parts[1]!.bytes,
    planned_batch_bytes: plan.parts[2]!.bytes,
    planned_activations_bytes: plan.parts[3]!.bytes,
  };
}

/** Device memory budget: HERON_MEMORY_BUDGET (bytes or "8GiB"/"512MB"), nvidia-smi, else RAM. */
export function memoryBudget(): { bytes: number; source: string } {
  const env = process.env.HERON_MEMORY_BUDGET;
  if (env) {
    const m = env.trim().match(/^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?$/i);
    if (!m) throw new Error(`HERON_MEMORY_BUDGET="${env}" is not a size (e.g. 4GiB, 512MB, 1073741824)`);
    const unit = (m[2] ?? "b").toLowerCase();
    const mult: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4 };
    return { bytes: Math.floor(Number(m[1]) * mult[unit]!), source: "HERON_MEMORY_BUDGET" };
  }
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=memory.total", "--format=csv,noheader,nounits"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const mib = Number(out.trim().split("\n")[0]);
    if (Number.isFinite(mib) && mib > 0) return { bytes: mib * 1024 * 1024, source: "nvidia-smi (GPU 0)" };
  } catch {
    // no NVIDIA GPU / driver: fall through
  }
  return { bytes: totalmem(), source: "system RAM" };
}

/** training-set sizes of the built-in datasets (synthetic: its default), for planning without loading them */
export const DATASET_TRAIN_SIZES: Record<string, number> = { mnist: 60_000, "fashion-mnist": 60_000, cifar10: 50_000, synthetic: 512 };

/**
 * Largest power-of-two batch whose planned total fits 80% of `budgetBytes` (cap 65,536),
 * never more than `trainSamples`: a batch larger than the training set is the set itself
 * (one step per epoch), so when the budget allows it the choice is exactly that size.
 */
export function chooseBatchSize(
  spec: PlanSpec,
  budgetBytes: number,
  opts: Omit<PlanOptions, "batchSize"> & { trainSamples?: number } = {},
): { batchSize: number; plan: MemoryPlan } {
  const { trainSamples, ...planOpts } = opts;
  const cap = Math.min(65_536, trainSamples ?? Infinity);
  const limit = 0.8 * budgetBytes;
  let best: MemoryPlan | undefined;
  for (let b = 1; b <= cap; b = b * 2 > cap && b < cap ? cap : b * 2) {
    const p = planMemory(spec, { ...planOpts, batchSize: b });
    if (p.totalBytes > limit) break;
    best = p;
  }
  if (!best) {
    const one = planMemory(spec, { ...planOpts, batchSize: 1 });
    throw new Error(`${spec.model} does not fit: batch 1 needs ${formatBytes(one.totalBytes)}, 80% of the budget is ${formatBytes(limit)}`);
  }
  return { batchSize: best.batchSize, plan: best };
}
