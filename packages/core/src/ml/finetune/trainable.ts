/**
 * Which variables a fine-tune job trains: the method's choice (LoRA adapters, the new head,
 * or everything), or — when the spec has `train` / `freeze` patterns (training-fields.ts) —
 * what those select among the model's parameters and the adapters' `<layer>.lora_A/B`
 * (`train` replaces the method's choice, `freeze` then removes from it; ../freeze.ts).
 * Logs the trainable / total counts either way.
 */
import type * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../../jobs/job-context";
import type { FinetuneSpec } from "../../schemas/finetune-spec";
import { applyFreeze, type FreezePlan, reportParamCounts } from "../freeze";
import type { LoraAdapter } from "../lora/lora";

export type TrainableChoice = { trainable: Map<string, tf.Variable>; plan: FreezePlan; share: number };

export function adapterVariables(adapters: Map<string, LoraAdapter> | undefined): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const ad of adapters?.values() ?? []) out.set(`${ad.layer}.lora_A`, ad.A).set(`${ad.layer}.lora_B`, ad.B);
  return out;
}

export function chooseTrainable(
  params: Map<string, tf.Variable>,
  adapters: Map<string, LoraAdapter> | undefined,
  byMethod: Map<string, tf.Variable>,
  spec: Pick<FinetuneSpec, "method" | "freeze" | "train">,
  ctx: Pick<JobContext, "info" | "setSummary">,
): TrainableChoice {
  const all = new Map([...params, ...adapterVariables(adapters)]);
  if (spec.freeze?.length || spec.train?.length) {
    // names are dotted identifiers, so each is a glob matching only itself
    const train = spec.train?.length ? spec.train : spec.method === "full" ? undefined : [...byMethod.keys()];
    const fz = applyFreeze(all, { train, freeze: spec.freeze }, ctx);
    return { trainable: fz.trainable, plan: fz.plan, share: fz.plan.trainableCount / fz.plan.totalCount };
  }
  const plan: FreezePlan = { trainable: [], frozen: [], trainableCount: 0, totalCount: 0 };
  for (const [name, v] of all) {
    v.trainable = byMethod.has(name);
    plan.totalCount += v.size;
    if (v.trainable) {
      plan.trainable.push(name);
      plan.trainableCount += v.size;
    } else plan.frozen.push(name);
  }
  reportParamCounts(ctx, plan);
  return { trainable: byMethod, plan, share: plan.trainableCount / plan.totalCount };
}
