/**
 * Freezing by parameter-name patterns, for every training job (train, distill, finetune,
 * vlm-stage). A job builds its model, then:
 *
 *   const fz = applyFreeze(model.params, spec, ctx);   // spec: {freeze?, train?} (training-fields.ts)
 *   const opt = new Optimizer(cfg, fz.trainable);       // frozen variables never reach the optimizer
 *   tf.variableGrads(loss, [...fz.trainable.values()]); // … nor the gradient tape's var list
 *
 * Rules: with `train`, only names matching one of its patterns train; then every name
 * matching a `freeze` pattern is frozen (freeze wins). Neither given: everything trains. A
 * pattern matching no parameter is an error naming the pattern and a few real names, so a
 * typo never silently trains (or freezes) the whole model. Frozen variables are also marked
 * `trainable = false`, so a tape built without an explicit var list skips them too.
 */
import type * as tf from "@tensorflow/tfjs";

import { compileGlob, matchGlob } from "../glob";
import type { JobContext } from "../jobs/job-context";

export type FreezeOptions = { freeze?: readonly string[]; train?: readonly string[] };

export type FreezePlan = {
  /** names that train, in the model's order */
  trainable: string[];
  /** names held fixed */
  frozen: string[];
  trainableCount: number;
  totalCount: number;
};

/**
 * The names matched by `patterns` (a spec's `field`, for error messages). Throws on a pattern
 * that matches none of `names`. Linear in names × patterns (glob.ts has no backtracking).
 */
export function selectByGlobs(names: readonly string[], patterns: readonly string[], field: string): Set<string> {
  const out = new Set<string>();
  for (const p of patterns) {
    const g = compileGlob(p);
    let hit = false;
    for (const n of names)
      if (matchGlob(g, n)) {
        out.add(n);
        hit = true;
      }
    if (!hit) {
      const sample = names.slice(0, 8).join(", ") + (names.length > 8 ? `, … (${names.length} in all)` : "");
      throw new Error(`${field}: "${p}" matches no parameter (parameters: ${sample})`);
    }
  }
  return out;
}

/** which of `params` (name → element count) train under `o`; pure, no tensors touched */
export function planFreeze(params: ReadonlyMap<string, { size: number }>, o: FreezeOptions): FreezePlan {
  const names = [...params.keys()];
  const trainSet = o.train?.length ? selectByGlobs(names, o.train, "train") : new Set(names);
  const frozenSet = o.freeze?.length ? selectByGlobs(names, o.freeze, "freeze") : new Set<string>();
  const plan: FreezePlan = { trainable: [], frozen: [], trainableCount: 0, totalCount: 0 };
  for (const [name, p] of params) {
    plan.totalCount += p.size;
    if (trainSet.has(name) && !frozenSet.has(name)) {
      plan.trainable.push(name);
      plan.trainableCount += p.size;
    } else plan.frozen.push(name);
  }
  return plan;
}

export type AppliedFreeze = {
  plan: FreezePlan;
  /** the variables to give the optimizer and the gradient tape */
  trainable: Map<string, tf.Variable>;
  frozen: Set<string>;
};

/**
 * Plans, marks frozen variables non-trainable, and (with `ctx`) logs the counts: an info line
 * like seed 001's "trainable parameters" print, and summary `params/trainable`,
 * `params/total`. Throws when nothing is left to train.
 */
export function applyFreeze(
  params: ReadonlyMap<string, tf.Variable>,
  o: FreezeOptions,
  ctx?: Pick<JobContext, "info" | "setSummary">,
  label = "",
): AppliedFreeze {
  const plan = planFreeze(params, o);
  if (!plan.trainable.length) throw new Error(`${label}freeze/train patterns leave no parameter to train`);
  const frozen = new Set(plan.frozen);
  const trainable = new Map<string, tf.Variable>();
  for (const [name, v] of params) {
    v.trainable = !frozen.has(name);
    if (v.trainable) trainable.set(name, v);
  }
  if (ctx) reportParamCounts(ctx, plan, label);
  return { plan, trainable, frozen };
}

const millions = (n: number) => (n / 1e6).toFixed(3);

/** info line + summary keys for a plan; `label` prefixes the line ("pretrain: ") */
export function reportParamCounts(ctx: Pick<JobContext, "info" | "setSummary">, plan: FreezePlan, label = ""): void {
  const pct = ((100 * plan.trainableCount) / Math.max(1, plan.totalCount)).toFixed(2);
  const frozenNote = plan.frozen.length ? `; ${plan.frozen.length} tensor(s) frozen` : "";
  ctx.info(
    `${label}trainable parameters: ${plan.trainableCount.toLocaleString("en-US")} of ${plan.totalCount.toLocaleString("en-US")} ` +
      `(${millions(plan.trainableCount)} M of ${millions(plan.totalCount)} M, ${pct}%)${frozenNote}`,
  );
  ctx.setSummary({ "params/trainable": plan.trainableCount, "params/total": plan.totalCount });
}
