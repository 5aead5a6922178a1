/**
 * The shared memory a data-parallel step runs over: one SharedArrayBuffer per role, laid out
 * the same on the main thread and in every worker. Nothing crosses a message port per step —
 * the main thread writes the batch and (when they changed) the weights, bumps a generation
 * counter, and each worker writes its shard's gradients into its own slot.
 *
 * Why hand-written: the protocol is the product's own core (like the lease and the metric
 * store), a few Int32 words and Float32 arrays; a general RPC/worker-pool library would
 * serialise tensors through messages, which is exactly the cost this avoids.
 */
import type { ShardTask } from "./replica";

export const CTRL = {
  /** bumped by the main thread for every command; workers wait on it */
  GEN: 0,
  /** workers done with the current command (main waits until it equals the worker count) */
  DONE: 1,
  /** what to do: STEP or STOP */
  CMD: 2,
  /** rows in the current batch */
  ROWS: 3,
  /** bumped whenever `weights` holds new values */
  WEIGHTS_VERSION: 4,
  /** set to 1 by a worker whose step failed (its message says why) */
  ERROR: 5,
  LENGTH: 8,
} as const;

export const CMD_STEP = 1;
export const CMD_STOP = 2;

/** a parameter's place in the flat weight and gradient arrays */
export type ParamSlot = { name: string; shape: number[]; size: number; weightOffset: number; gradOffset: number | null };

export type PoolBuffers = {
  ctrl: SharedArrayBuffer;
  /**
   * [0] = loss weight of the micro-batch (its share of the optimizer step's samples),
   * [1] = its dropout seed (a uint32: it would wrap in the Int32 control words),
   * [2..7] = the task's numbers about the micro-batch (GradPool.grads' `aux`)
   */
  scalars: SharedArrayBuffer;
  weights: SharedArrayBuffer;
  /** (workers) × trainable values */
  grads: SharedArrayBuffer;
  /** per worker: its loss, then its loss parts (ShardTask's taskParts order) */
  losses: SharedArrayBuffer;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
};

export type PoolModel = { name: string; inputShape: [number, number, number]; numClasses: number };

/** everything a worker is started with (structured-cloned once, SharedArrayBuffers shared) */
export type WorkerInit = {
  task: ShardTask;
  /** a distillation teacher's weights (frozen: sent once, with the worker's start) */
  teacherWeights?: Record<string, Float32Array>;
  index: number;
  threads: number;
  backend: string;
  fastConv: boolean;
  /** the image model (absent for finetune-text and vlm, whose tasks carry their model's config) */
  model?: PoolModel;
  /** values per row of x and of y */
  sample: { x: number; y: number };
  params: ParamSlot[];
  trainableSize: number;
  buffers: PoolBuffers;
};

/** flat offsets of every parameter; trainable ones also get a gradient offset */
export function layoutParams(
  params: { name: string; shape: number[] }[],
  trainable: ReadonlySet<string>,
): { slots: ParamSlot[]; weightSize: number; trainableSize: number } {
  let w = 0;
  let g = 0;
  const slots = params.map((p) => {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const slot: ParamSlot = { name: p.name, shape: p.shape, size, weightOffset: w, gradOffset: trainable.has(p.name) ? g : null };
    w += size;
    if (slot.gradOffset !== null) g += size;
    return slot;
  });
  return { slots, weightSize: w, trainableSize: g };
}

/** rows [start, end) of shard `k` of `threads` over a batch of `rows` (contiguous, sizes differ by ≤ 1) */
export function shardRows(k: number, threads: number, rows: number): [number, number] {
  return [Math.floor((k * rows) / threads), Math.floor(((k + 1) * rows) / threads)];
}
