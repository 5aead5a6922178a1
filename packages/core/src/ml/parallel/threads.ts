/**
 * How many data-parallel replicas a job runs. The runner grants each slot a share of the
 * host's cores (HERON_CPU_THREADS in the job's environment); "auto" takes that grant, a
 * number is taken as asked. Replicas only pay off on the CPU backends (wasm, cpu) — the
 * native and GPU backends thread inside their own kernels — and only while every shard
 * keeps enough rows to be worth a replica.
 */
import { availableParallelism } from "node:os";

import type { Threads } from "../../schemas/training-fields";
import type { LayerInfo } from "../models/layers";

/** fewer rows per shard than this and a replica costs more in copies than it computes */
export const MIN_ROWS_PER_THREAD = 8;

/**
 * "auto" only splits a batch whose shards each keep this much forward work (multiply-adds).
 * Measured on 2 cores: mlp-mnist at batch 64 (~3 M per shard of 32) ran 0.61× on 2 threads —
 * its ~7 ms step is dominated by the copies and wake-ups — while light-cnn at batch 128
 * (~80 M per shard) ran 1.56× and deep-cnn 1.65×.
 */
export const MIN_SHARD_MACS = 20e6;

/** forward multiply-adds per sample: every weight once per output position (convolutions) or once (dense) */
export function forwardMacs(layers: LayerInfo[]): number {
  let macs = 0;
  for (const l of layers)
    for (const p of l.params) {
      if (!p.name.endsWith(".weight")) continue;
      const size = p.shape.reduce((a, b) => a * b, 1);
      macs += l.outputShape.length === 3 ? size * l.outputShape[0]! * l.outputShape[1]! : size;
    }
  return macs;
}

/** the cores this job may use: the runner's grant, else the host's */
export function grantedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.HERON_CPU_THREADS);
  return Number.isInteger(n) && n >= 1 ? n : availableParallelism();
}

export type ThreadChoice = { threads: number; reason: string };

export function resolveThreads(
  requested: Threads | undefined,
  o: {
    backend: string;
    batchSize: number;
    env?: NodeJS.ProcessEnv;
    /** forward multiply-adds per sample (all models a replica runs) */ macsPerSample?: number;
  },
): ThreadChoice {
  const auto = requested === undefined || requested === "auto";
  const asked = auto ? grantedThreads(o.env) : requested;
  const source = auto ? `"auto" (${asked} granted)` : `${asked} asked`;
  if (asked <= 1) return { threads: 1, reason: `threads: 1 (${source})` };
  if (o.backend !== "wasm" && o.backend !== "cpu") return { threads: 1, reason: `threads: 1 — backend ${o.backend} threads inside its own kernels` };
  if (auto && o.macsPerSample !== undefined) {
    const shardMacs = o.macsPerSample * Math.floor(o.batchSize / asked);
    if (shardMacs < MIN_SHARD_MACS)
      return {
        threads: 1,
        reason: `threads: 1 (${source}; a shard of batch ${o.batchSize} would carry ${(shardMacs / 1e6).toFixed(1)} M multiply-adds, under ${MIN_SHARD_MACS / 1e6} M: one thread is faster; set threads to force more)`,
      };
  }
  const byBatch = Math.max(1, Math.floor(o.batchSize / MIN_ROWS_PER_THREAD));
  if (byBatch < asked)
    return { threads: byBatch, reason: `threads: ${byBatch} (${source}; batch ${o.batchSize} keeps ≥ ${MIN_ROWS_PER_THREAD} rows per thread)` };
  return { threads: asked, reason: `threads: ${asked} (${source})` };
}

/**
 * The log line of a job resumed on another thread count than its checkpoint's (`extra.threads`,
 * 1 when absent): it continues, close to but not bit for bit the same as the original run.
 */
export function resumedThreadsNote(extra: Record<string, unknown> | undefined, threads: number): string | undefined {
  const before = typeof extra?.threads === "number" ? extra.threads : 1;
  return before === threads
    ? undefined
    : `resuming on ${threads} thread(s) from a checkpoint written on ${before}: steps agree up to float summation order, not bit for bit`;
}
