/**
 * The teacher: a finished run's checkpoint, or trained here first. Either way it ends up
 * frozen — its variables are marked non-trainable and the distillation step runs its
 * forward pass outside the gradient tape (seed 003's `with torch.no_grad()`), so no
 * gradient can reach it.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

import * as tf from "@tensorflow/tfjs";

import type { JobContext } from "../../jobs/job-context";
import type { DistillSpec } from "../../schemas/distill-spec";
import type { Threads } from "../../schemas/training-fields";
import { type CheckpointState, loadLatestCheckpoint, readCheckpoint, saveCheckpoint } from "../checkpoint";
import { Batcher, type Dataset } from "../datasets";
import { optimizerStep, poolOptimizerStep } from "../finetune/step";
import { crossEntropy } from "../losses";
import { buildModel, type ReferenceModel } from "../models/reference-models";
import { Optimizer } from "../optim";
import { GradPool } from "../parallel/grad-pool";
import { forwardMacs, resolveThreads } from "../parallel/threads";
import { hash32, Rng } from "../rng";

export function freezeModel(m: ReferenceModel): ReferenceModel {
  for (const v of m.params.values()) v.trainable = false;
  return m;
}

/**
 * Where a finished job's checkpoints are on this host: runners keep them under
 * `<HERON_HOME>/checkpoints/<jobId>/`, the folder next to this job's own. The runner daemon
 * fetches it there from the server before this job starts when another host trained it
 * (apps/runner/src/source-checkpoints.ts).
 */
export function checkpointDirOfJob(ctx: Pick<JobContext, "checkpointDir">, jobId: string): string {
  return join(dirname(ctx.checkpointDir), jobId);
}

/**
 * Where a model artifact version's files are on this host: runners keep them under
 * `<HERON_HOME>/artifacts/versions/<versionId>/` (the SDK's artifact cache; this job's own
 * folder is `<HERON_HOME>/checkpoints/<jobId>`). The runner daemon downloads it there before
 * this job starts (apps/runner/src/source-checkpoints.ts).
 */
export function artifactDirOf(ctx: Pick<JobContext, "checkpointDir">, versionId: string): string {
  return join(dirname(dirname(ctx.checkpointDir)), "artifacts", "versions", versionId);
}

/**
 * a teacher/base: another job's run (`jobId` resolved at submit), a model artifact
 * (`versionId` resolved at submit) or an earlier stage of the pipeline (`jobId` filled in by
 * the pipeline)
 */
export type SourceRef = { runId: string; jobId?: string } | { artifact: string; versionId?: string } | { fromStage: string; jobId?: string };

/** how messages name a source: `run <id>`, `artifact <name:alias>` or `stage <name>` */
export function describeSource(ref: SourceRef): string {
  return "runId" in ref ? `run ${ref.runId}` : "artifact" in ref ? `artifact ${ref.artifact}` : `stage ${ref.fromStage}`;
}

/**
 * Reads a teacher/base checkpoint, or says exactly why it cannot: a run's newest checkpoint, or
 * a model artifact's files — one checkpoint folder (meta.json + tensors.bin at its root), or a
 * folder of `ckpt-<step>` folders, whose newest is read.
 */
export function loadRunCheckpoint(ref: SourceRef, ctx: Pick<JobContext, "checkpointDir" | "warn">, what: string): CheckpointState {
  const name = `${what} ${describeSource(ref)}`;
  if ("artifact" in ref) {
    if (!ref.versionId)
      throw new Error(
        `${name}: its version is unknown — submit through the server (job.submit resolves the artifact to a version), or pass {artifact, versionId}`,
      );
    const dir = artifactDirOf(ctx, ref.versionId);
    const ck = existsSync(join(dir, "meta.json")) ? readCheckpoint(dir) : existsSync(dir) ? loadLatestCheckpoint(dir, ctx.warn) : undefined;
    if (!ck)
      throw new Error(
        `${name} (version ${ref.versionId}): no checkpoint on this runner's host (looked in ${dir}). ` +
          `A runner daemon downloads the artifact's files from the server before the job starts; run the job through a runner.`,
      );
    return ck;
  }
  if (!ref.jobId)
    throw new Error(
      "fromStage" in ref
        ? `${name}: the stage was not resolved to a job — submit the pipeline through the server, which fills in its jobId`
        : `${name}: its job id is unknown — submit through the server (job.submit resolves the run's job), or pass {runId, jobId}`,
    );
  const dir = checkpointDirOfJob(ctx, ref.jobId);
  const ck = existsSync(dir) ? loadLatestCheckpoint(dir, ctx.warn) : undefined;
  if (!ck)
    throw new Error(
      `${name} (job ${ref.jobId}): no checkpoint on this runner's host (looked in ${dir}). ` +
        `A runner daemon fetches it from the server before the job starts; run the job through a runner (or copy that folder here), or train it in this job as a first stage.`,
    );
  return ck;
}

export function loadTeacherFromRun(ref: SourceRef, ds: Dataset, ctx: JobContext): ReferenceModel {
  const ck = loadRunCheckpoint(ref, ctx, "teacher");
  let model: ReferenceModel;
  try {
    model = buildModel(ck.model, ds.inputShape, ds.numClasses);
    model.setWeights(ck.weights);
  } catch (e) {
    throw new Error(
      `teacher ${describeSource(ref)}: its checkpoint (model ${ck.model}) does not fit dataset ${ds.name} ${ds.inputShape.join("×")}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  ctx.info(`teacher: ${ck.model} from ${describeSource(ref)} (checkpoint at step ${ck.step}), ${model.paramCount.toLocaleString("en-US")} params, frozen`);
  return freezeModel(model);
}

/**
 * Trains the teacher with plain CE (Adam, like seed 003's `train`), checkpointed under
 * `<checkpointDir>/teacher` so a retried attempt does not train it again. On the CPU backends
 * it runs data-parallel like a train job (`o.threads`, the distill spec's), with the same
 * dropout seeds, so its weights equal one thread's up to float summation order.
 */
export async function trainTeacherStage(
  stage: Extract<DistillSpec["teacher"], { model: string }>,
  ds: Dataset,
  ctx: JobContext,
  seed: number,
  o: { fastConv: boolean; threads: Threads | undefined; backend: string },
): Promise<ReferenceModel> {
  const dir = join(ctx.checkpointDir, "teacher");
  const model = buildModel(stage.model, ds.inputShape, ds.numClasses, { seed });
  const done = loadLatestCheckpoint(dir, ctx.warn);
  if (done?.extra?.done === true && done.model === stage.model) {
    model.setWeights(done.weights);
    ctx.info(`teacher: ${stage.model} restored from this job's first stage (${dir})`);
    return freezeModel(model);
  }
  model.fastConv = o.fastConv;
  const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, model.params);
  const N = Math.min(ds.train.count, stage.maxTrainSamples ?? Infinity);
  const bs = Math.min(stage.batchSize ?? 64, N);
  const batcher = new Batcher(ds, bs);
  const [h, w, c] = ds.inputShape;
  let step = 0;
  ctx.info(`teacher stage: training ${stage.model} (${model.paramCount.toLocaleString("en-US")} params) for ${stage.epochs} epoch(s) on ${N} samples`);
  const threads = resolveThreads(o.threads, { backend: o.backend, batchSize: bs, macsPerSample: forwardMacs(model.layers) });
  ctx.info(`teacher stage: ${threads.reason}`);
  const pool =
    threads.threads > 1 ? await GradPool.start({ threads: threads.threads, model, trainable: model.params, maxBatch: bs, backend: o.backend }) : undefined;
  try {
    for (let epoch = 0; epoch < stage.epochs; epoch++) {
      const order = Rng.derive(seed, "teacher-shuffle", epoch).permutation(N);
      for (let start = 0; start < N; start += bs) {
        if (ctx.signal.aborted) throw new Error("aborted while training the teacher");
        const n = Math.min(bs, N - start);
        const { x, y } = batcher.fill(ds.train, order, start, n);
        const dropoutSeed = hash32(seed, "teacher-dropout", epoch, start);
        let loss: number;
        if (pool) loss = (await poolOptimizerStep([() => pool.grads(x, y, n, dropoutSeed, 1)], opt, stage.lr)).loss;
        else {
          const xt = tf.tensor4d(x, [n, h, w, c]);
          const yt = tf.tensor1d(y, "int32");
          const r = optimizerStep(
            model.params,
            [{ weight: 1, loss: () => ({ loss: crossEntropy(model.forward(xt, { training: true, seed: dropoutSeed }).logits, yt) }) }],
            opt,
            stage.lr,
          );
          xt.dispose();
          yt.dispose();
          loss = r.loss;
        }
        step++;
        ctx.log({ "teacher/train_loss": loss }, step);
      }
    }
  } finally {
    await pool?.close();
  }
  saveCheckpoint(dir, {
    step,
    epoch: stage.epochs,
    stepInEpoch: 0,
    seed,
    model: stage.model,
    weights: model.getWeights(),
    optimizer: { step: 0, slots: {} },
    extra: { done: true },
  });
  opt.dispose();
  model.fastConv = false;
  return freezeModel(model);
}
