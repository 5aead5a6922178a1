/**
 * Starting a training stage from an earlier stage's checkpoint (`init`), and checkpoints
 * that leave frozen tensors out (`checkpoint.excludeFrozen`). A job that supports both:
 *
 *   const init = loadStageInit(model.params, spec.init, ctx);     // before applyFreeze
 *   const fz = applyFreeze(model.params, spec, ctx);
 *   snapshot: () => ({ ...stageWeights(model.params, fz.frozen, init, spec.checkpoint), … })
 *
 * `init.jobId` (filled by the server) names the job whose newest checkpoint is read from
 * `<HERON_HOME>/checkpoints/<jobId>/`; references inside it (tensors an even earlier stage
 * keeps) are followed. Each loaded tensor remembers its origin — the checkpoint that really
 * stores it — so a later checkpoint can point there instead of storing it again, and
 * references never chain.
 */
import { existsSync } from "node:fs";

import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../jobs/job-context";
import type { CheckpointOptions, StageInit, TensorRef } from "../schemas/training-fields";
import { loadLatestCheckpoint } from "./checkpoint";
import { checkpointDirOfJob } from "./distill/teacher";
import { selectByGlobs } from "./freeze";

export type StageInitResult = {
  jobId: string;
  step: number;
  /** loaded tensor name → the checkpoint that stores its values */
  origin: Map<string, TensorRef>;
};

/**
 * Loads `init`'s checkpoint into `params` (name → variable): the tensors matching
 * `init.load` (a pattern matching none of the checkpoint's tensors is an error), default
 * every tensor the model also has. Returns null when the spec starts from scratch.
 */
export function loadStageInit(
  params: ReadonlyMap<string, tf.Variable>,
  init: StageInit | undefined,
  ctx: Pick<JobContext, "checkpointDir" | "warn" | "info">,
  label = "",
): StageInitResult | null {
  if (!init) return null;
  if (!init.jobId) {
    if (init.fromStage)
      throw new Error(`${label}init.fromStage "${init.fromStage}" was not resolved to a job: submit the pipeline through the server, which fills init.jobId`);
    if (init.load) throw new Error(`${label}init.load needs a checkpoint to load from (init.fromStage in a pipeline, or init.jobId)`);
    return null;
  }
  const dir = checkpointDirOfJob(ctx, init.jobId);
  const ck = existsSync(dir) ? loadLatestCheckpoint(dir, ctx.warn) : undefined;
  if (!ck)
    throw new Error(
      `${label}init: job ${init.jobId} has no checkpoint on this host (looked in ${dir}); a runner fetches it from the server before the stage starts`,
    );
  const stored = Object.keys(ck.weights);
  const wanted = init.load ? selectByGlobs(stored, init.load, "init.load") : new Set(stored.filter((n) => params.has(n)));
  const origin = new Map<string, TensorRef>();
  let values = 0;
  for (const name of wanted) {
    const v = params.get(name);
    if (!v) throw new Error(`${label}init.load: checkpoint tensor ${name} has no parameter of that name in this model`);
    const a = ck.weights[name]!;
    if (a.length !== v.size)
      throw new Error(`${label}init: checkpoint tensor ${name} has ${a.length} values, this model's has ${v.size} (shape ${v.shape.join("×")})`);
    tf.tidy(() => v.assign(tf.tensor(a, v.shape, "float32")));
    origin.set(name, ck.refs?.[name] ?? { jobId: init.jobId, step: ck.step });
    values += a.length;
  }
  if (!wanted.size) throw new Error(`${label}init: job ${init.jobId}'s checkpoint shares no tensor name with this model`);
  ctx.info(`${label}init: ${wanted.size} tensor(s), ${values.toLocaleString("en-US")} values from job ${init.jobId} (checkpoint at step ${ck.step})`);
  return { jobId: init.jobId, step: ck.step, origin };
}

/**
 * What a checkpoint stores for these parameters: every tensor's values, except frozen ones
 * with a known origin when excluding (default on), which become references.
 */
export function stageWeights(
  params: ReadonlyMap<string, tf.Variable>,
  frozen: ReadonlySet<string>,
  init: StageInitResult | null,
  opts: CheckpointOptions | undefined,
): { weights: Record<string, Float32Array>; shapes: Record<string, number[]>; refs: Record<string, TensorRef> } {
  const exclude = opts?.excludeFrozen !== false;
  const weights: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  const refs: Record<string, TensorRef> = {};
  for (const [name, v] of params) {
    shapes[name] = [...v.shape];
    const ref = exclude && frozen.has(name) ? init?.origin.get(name) : undefined;
    if (ref) refs[name] = ref;
    else weights[name] = v.dataSync() as Float32Array;
  }
  return { weights, shapes, refs };
}
