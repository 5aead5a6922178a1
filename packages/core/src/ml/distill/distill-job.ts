/**
 * `kind: "distill"` jobs — seed 003 method for method. For each method the student starts
 * from the same seeded init (seed 003's torch.manual_seed(42) before every student), trains
 * with Adam over the same data order, and is evaluated on the test split each epoch.
 *
 *   ce        CE(student, labels)
 *   kd        softWeight · KL_T(teacher ‖ student) · T² + ceWeight · CE
 *   cosine    hiddenWeight · CosineEmbedding(student flat, avgpool(teacher flat)) + ceWeight · CE
 *   regressor hiddenWeight · MSE(conv3×3(student map), teacher map) + ceWeight · CE
 *
 * Logged: train/loss, loss/ce, loss/soft (kd), loss/hidden (cosine, regressor),
 * train/grad_norm, train/lr, train/epoch every logEvery steps; test/loss, test/accuracy per
 * epoch; distill/{teacher_accuracy, teacher_params, student_params} at the end (the
 * comparison table reads these). Several methods in one job run one after another with
 * their keys prefixed "<method>/".
 */
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult } from "../../jobs/job-context";
import { type DistillMethod, type DistillSpec, type DistillSpecInput, DistillSpecSchema, featureAlignmentError } from "../../schemas/distill-spec";
import { selectBackend } from "../backend";
import { Batcher, type Dataset, loadSpecDataset } from "../datasets";
import { type LossOut, optimizerStep } from "../finetune/step";
import { applyFreeze } from "../freeze";
import { avgPool1d, cosineEmbeddingLoss, crossEntropy, kdSoftLoss, mseLoss } from "../losses";
import { buildModel, type ReferenceModel } from "../models/reference-models";
import { Optimizer } from "../optim";
import { hash32 } from "../rng";
import { loadStageInit, stageWeights } from "../stage-init";
import { evaluate, runTrainLoop, type StepOutcome, type TrainLoopResult } from "../train-loop";
import { applyRegressor, createRegressor, type Regressor } from "./regressor";
import { loadTeacherFromRun, trainTeacherStage } from "./teacher";

type TeacherOut = { logits?: tf.Tensor2D; features?: tf.Tensor2D; featureMap?: tf.Tensor4D };

/** The teacher's outputs for a batch, computed outside any gradient tape (no_grad). */
export function teacherOutputs(teacher: ReferenceModel, x: tf.Tensor4D, method: DistillMethod, studentFeatures: number): TeacherOut {
  return tf.tidy(() => {
    const out = teacher.forward(x, { training: false });
    if (method === "kd") return { logits: out.logits };
    if (method === "cosine") {
      const f = out.features!;
      const k = f.shape[1] / studentFeatures;
      return { features: k > 1 ? avgPool1d(f, k) : f };
    }
    if (method === "regressor") return { featureMap: out.featureMap! };
    return {};
  }) as TeacherOut;
}

/** The method's loss for one micro-batch, given precomputed (frozen) teacher outputs. */
export function distillLoss(
  method: DistillMethod,
  spec: Pick<DistillSpec, "T" | "softWeight" | "ceWeight" | "hiddenWeight">,
  student: ReferenceModel,
  regressor: Regressor | null,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  t: TeacherOut,
  dropoutSeed: number,
): LossOut {
  const out = student.forward(x, { training: true, seed: dropoutSeed });
  const ce = crossEntropy(out.logits, y);
  if (method === "ce") return { loss: ce, parts: { "loss/ce": ce } };
  if (method === "kd") {
    const soft = kdSoftLoss(out.logits, t.logits!, spec.T);
    return { loss: tf.add(tf.mul(soft, spec.softWeight), tf.mul(ce, spec.ceWeight)) as tf.Scalar, parts: { "loss/ce": ce, "loss/soft": soft } };
  }
  let hidden: tf.Scalar;
  if (method === "cosine") {
    let s = out.features!;
    const tf_ = t.features!;
    // a student wider than its teacher is pooled instead (seed 003 only needs the other way)
    if (s.shape[1] > tf_.shape[1]) s = avgPool1d(s, s.shape[1] / tf_.shape[1]);
    hidden = cosineEmbeddingLoss(s, tf_);
  } else hidden = mseLoss(applyRegressor(regressor!, out.featureMap!), t.featureMap!);
  return { loss: tf.add(tf.mul(hidden, spec.hiddenWeight), tf.mul(ce, spec.ceWeight)) as tf.Scalar, parts: { "loss/ce": ce, "loss/hidden": hidden } };
}

type MethodResult = { method: DistillMethod; accuracy: number; loss: number; studentParams: number; trainableParams: number; samplesPerSec: number };

/**
 * Trains one student. Resumable at any step, like the plain trainer: the checkpoint records
 * the epoch and the optimizer steps done inside it (`stepInEpoch`), and data order and
 * dropout masks are pure functions of (seed, epoch, step), so a resumed attempt replays the
 * same steps bit for bit. Checkpoints: at each epoch end, every `checkpointEvery` steps, and
 * when the job is asked to stop (drain/cancel) — then null is returned.
 */
async function trainStudent(
  method: DistillMethod,
  spec: DistillSpec,
  ds: Dataset,
  teacher: ReferenceModel,
  ctx: JobContext,
  o: { seed: number; fastConv: boolean; prefix: string; dir: string },
): Promise<MethodResult | null> {
  const { seed, prefix } = o;
  const student = buildModel(spec.student, ds.inputShape, ds.numClasses, { seed });
  student.fastConv = o.fastConv;
  const [h, w, c] = ds.inputShape;
  const regressor = method === "regressor" ? createRegressor(student, teacher, ds.inputShape, seed) : null;
  const params = new Map(student.params);
  if (regressor) for (const [n, v] of regressor.params) params.set(n, v);
  const init = loadStageInit(student.params, spec.init, ctx, `${method}: `);
  const fz = applyFreeze(params, spec, ctx, `${method}: `);
  const trainable = fz.plan.trainableCount;
  const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, fz.trainable);
  const N = ds.train.count;
  const bs = Math.min(spec.batchSize, N);
  const stepsPerEpoch = Math.ceil(N / bs);
  const batcher = new Batcher(ds, bs);
  const studentFeatures = student.forward(tf.zeros([1, h, w, c]) as tf.Tensor4D).features?.shape[1] ?? 0;
  ctx.info(
    `${method}: student ${spec.student} ${student.paramCount.toLocaleString("en-US")} params` +
      (regressor ? ` + regressor ${[...regressor.params.values()].reduce((a, v) => a + v.size, 0).toLocaleString("en-US")}` : ""),
  );
  const step = (epoch: number, s: number, order: Uint32Array): StepOutcome => {
    const start = s * bs;
    const n = Math.min(bs, N - start);
    const { x, y } = batcher.fill(ds.train, order, start, n);
    const xt = tf.tensor4d(x, [n, h, w, c]);
    const yt = tf.tensor1d(y, "int32");
    const t = teacherOutputs(teacher, xt, method, studentFeatures);
    const dropoutSeed = hash32(seed, "dropout", epoch, s);
    const r = optimizerStep(fz.trainable, [{ weight: 1, loss: () => distillLoss(method, spec, student, regressor, xt, yt, t, dropoutSeed) }], opt, spec.lr);
    tf.dispose([xt, yt, t.logits, t.features, t.featureMap].filter((v) => v !== undefined));
    return { ...r, lr: spec.lr, samples: n };
  };
  let result: TrainLoopResult;
  try {
    result = await runTrainLoop({
      ctx,
      label: `${method}: `,
      prefix,
      epochs: spec.epochs,
      stepsPerEpoch,
      samples: N,
      seed,
      runStep: step,
      cadence: { logEvery: spec.logEvery, logFinalStep: true, progress: "with-log", samplesPerStep: bs },
      checkpoints: {
        dir: o.dir,
        every: spec.checkpointEvery,
        snapshot: () => ({
          seed,
          model: spec.student,
          ...stageWeights(params, fz.frozen, init, spec.checkpoint),
          optimizer: opt.getState(),
          extra: { kind: "distill", method },
        }),
        restore: (ck) => {
          if (ck.extra?.method !== method) return false;
          student.setWeights(ck.weights);
          if (regressor) for (const [n, v] of regressor.params) v.assign(tf.tensor(ck.weights[n]!, v.shape));
          opt.setState(ck.optimizer);
          return true;
        },
      },
      evaluate: () => evaluate(student, ds, ds.test),
      describeEpoch: (epoch, ev) => `${method}: epoch ${epoch + 1}/${spec.epochs} test accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
    });
  } finally {
    opt.dispose();
    student.dispose();
    if (regressor) for (const v of regressor.params.values()) v.dispose();
  }
  if (result.aborted || !result.last) return null;
  const last = result.last;
  return {
    method,
    accuracy: last.accuracy,
    loss: last.loss,
    studentParams: student.paramCount,
    trainableParams: trainable,
    samplesPerSec: result.samples / Math.max(1e-9, result.seconds),
  };
}

export async function runDistillJob(specIn: DistillSpec | DistillSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = DistillSpecSchema.parse(specIn);
  const backend = await selectBackend();
  const fastConv = backend.name === "wasm" || backend.name === "cpu";
  const seed = spec.seed ?? 0;
  const ds = loadSpecDataset(spec, (m) => ctx.warn(m));
  const teacher = "model" in spec.teacher ? trainTeacherStage(spec.teacher, ds, ctx, seed, fastConv) : loadTeacherFromRun(spec.teacher, ds, ctx);
  try {
    for (const m of spec.methods) {
      const why = featureAlignmentError(m, teacher.name, spec.student, ds.inputShape);
      if (why) throw new Error(why);
    }
    const teacherEval = evaluate(teacher, ds, ds.test);
    ctx.info(`teacher ${teacher.name}: test accuracy ${(teacherEval.accuracy * 100).toFixed(2)}% (${teacher.paramCount.toLocaleString("en-US")} params)`);
    const summary: Record<string, number | string> = {
      backend: backend.name,
      teacher_model: teacher.name,
      teacher_params: teacher.paramCount,
      teacher_accuracy: teacherEval.accuracy,
      student_model: spec.student,
    };
    const multi = spec.methods.length > 1;
    let finalStep = 0;
    for (const method of spec.methods) {
      const prefix = multi ? `${method}/` : "";
      const r = await trainStudent(method, spec, ds, teacher, ctx, {
        seed,
        fastConv,
        prefix,
        dir: multi ? join(ctx.checkpointDir, method) : ctx.checkpointDir,
      });
      if (!r) {
        summary.stopped = "aborted";
        break;
      }
      finalStep = Math.max(finalStep, Math.ceil(ds.train.count / Math.min(spec.batchSize, ds.train.count)) * spec.epochs);
      ctx.log(
        {
          [`${prefix}distill/teacher_accuracy`]: teacherEval.accuracy,
          [`${prefix}distill/teacher_params`]: teacher.paramCount,
          [`${prefix}distill/student_params`]: r.studentParams,
          [`${prefix}distill/trainable_params`]: r.trainableParams,
        },
        finalStep,
      );
      Object.assign(summary, {
        [`${prefix}method`]: method,
        [`${prefix}test_accuracy`]: r.accuracy,
        [`${prefix}test_loss`]: r.loss,
        [`${prefix}student_params`]: r.studentParams,
        [`${prefix}trainable_params`]: r.trainableParams,
        [`${prefix}samples_per_s`]: Math.round(r.samplesPerSec),
      });
    }
    ctx.setSummary(summary);
    return { summary };
  } finally {
    teacher.dispose();
  }
}
