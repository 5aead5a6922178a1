/**
 * What every fine-tune job (text and image) steps with, as transformers' Trainer (seed 002):
 * Adam, the learning rate per optimizer step (warmup, then linear decay to 0 by default) and
 * the gradient-norm clip (1.0 by default).
 */
import type { FinetuneSpec } from "../../schemas/finetune-spec";
import { learningRate } from "../schedule";

export const FINETUNE_ADAM = { name: "adam" as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export type FinetuneSchedule = {
  warmupSteps: number;
  totalSteps: number;
  /** lr of the update after `step` optimizer steps (0-based) — a pure function, so a resumed attempt needs no scheduler state */
  lrAt: (step: number) => number;
  /** undefined: no clipping */
  clipGradNorm: number | undefined;
};

export function finetuneSchedule(
  spec: Pick<FinetuneSpec, "lr" | "schedule" | "warmupSteps" | "warmupRatio" | "clipGradNorm">,
  totalSteps: number,
): FinetuneSchedule {
  // transformers: warmup_steps wins over warmup_ratio, which is rounded up
  const warmupSteps = Math.min(totalSteps, spec.warmupSteps ?? Math.ceil(spec.warmupRatio * totalSteps));
  const o = { lr: spec.lr, schedule: spec.schedule, warmupSteps, totalSteps };
  return { warmupSteps, totalSteps, lrAt: (step) => learningRate(step, o), clipGradNorm: spec.clipGradNorm > 0 ? spec.clipGradNorm : undefined };
}

/** one line for the run's log: what the optimizer will do */
export function describeSchedule(spec: Pick<FinetuneSpec, "lr" | "schedule">, s: FinetuneSchedule): string {
  return `lr ${spec.lr} (${spec.schedule}${s.warmupSteps ? `, warmup ${s.warmupSteps} steps` : ""}) over ${s.totalSteps} steps; grad-norm clip ${s.clipGradNorm ?? "off"}`;
}
