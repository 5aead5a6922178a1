/**
 * How many data-parallel replicas a job runs. The runner grants each slot a share of the
 * host's cores (HERON_CPU_THREADS in the job's environment); "auto" takes that grant, a
 * number is taken as asked. Replicas only pay off on the CPU backends (wasm, cpu) — the
 * native and GPU backends thread inside their own kernels — and only while every shard
 * keeps enough rows to be worth a replica.
 */
import { availableParallelism } from "node:os";

import type { Threads } from "../../schemas/training-fields";

/** fewer rows per shard than this and a replica costs more in copies than it computes */
export const MIN_ROWS_PER_THREAD = 8;

/** the cores this job may use: the runner's grant, else the host's */
export function grantedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.HERON_CPU_THREADS);
  return Number.isInteger(n) && n >= 1 ? n : availableParallelism();
}

export type ThreadChoice = { threads: number; reason: string };

export function resolveThreads(requested: Threads | undefined, o: { backend: string; batchSize: number; env?: NodeJS.ProcessEnv }): ThreadChoice {
  const asked = requested === undefined || requested === "auto" ? grantedThreads(o.env) : requested;
  const source = requested === undefined || requested === "auto" ? `"auto" (${asked} granted)` : `${asked} asked`;
  if (asked <= 1) return { threads: 1, reason: `threads: 1 (${source})` };
  if (o.backend !== "wasm" && o.backend !== "cpu") return { threads: 1, reason: `threads: 1 — backend ${o.backend} threads inside its own kernels` };
  const byBatch = Math.max(1, Math.floor(o.batchSize / MIN_ROWS_PER_THREAD));
  if (byBatch < asked)
    return { threads: byBatch, reason: `threads: ${byBatch} (${source}; batch ${o.batchSize} keeps ≥ ${MIN_ROWS_PER_THREAD} rows per thread)` };
  return { threads: asked, reason: `threads: ${asked} (${source})` };
}

/** the log line of a job kind that is not on the replicas yet, when more than one thread was asked or granted */
export function singleThreadNote(what: string, requested: Threads | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const asked = requested === undefined || requested === "auto" ? grantedThreads(env) : requested;
  return asked > 1 ? `threads: 1 — ${what} runs on one thread (data-parallel replicas cover train jobs and distillation students)` : undefined;
}
