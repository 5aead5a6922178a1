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

export { distillLoss, teacherOutputs } from "./distill-loss";
import type { JobContext, JobResult } from "../../jobs/job-context";
import { type DistillMethod, type DistillSpec, type DistillSpecInput, DistillSpecSchema, featureAlignmentError } from "../../schemas/distill-spec";
import { selectBackend } from "../backend";
import { Batcher, type Dataset, loadSpecDataset } from "../datasets";
import { applyGradients, optimizerStep } from "../finetune/step";
import { applyFreeze } from "../freeze";
import { buildModel, describeModel, type ReferenceModel } from "../models/reference-models";
import { Optimizer } from "../optim";
import { GradPool } from "../parallel/grad-pool";
import { forwardMacs, resolveThreads } from "../parallel/threads";
import { hash32 } from "../rng";
import { loadStageInit, stageWeights } from "../stage-init";
import { evaluate, runTrainLoop, type StepOutcome, type TrainLoopResult } from "../train-loop";
import { distillLoss, teacherOutputs } from "./distill-loss";
import { createRegressor } from "./regressor";
import { loadTeacherFromRun, trainTeacherStage } from "./teacher";

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
  o: { seed: number; fastConv: boolean; prefix: string; dir: string; threads: number; backend: string },
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
  let pool: GradPool | undefined;
  const step = async (epoch: number, s: number, order: Uint32Array): Promise<StepOutcome> => {
    const start = s * bs;
    const n = Math.min(bs, N - start);
    const { x, y } = batcher.fill(ds.train, order, start, n);
    if (pool) {
      // every replica runs the teacher's forward pass and the student's step on its rows
      const g = await pool.grads(x, y, n, hash32(seed, "dropout", epoch, s), 1);
      const loss = g.value.dataSync()[0]!;
      g.value.dispose();
      return { ...applyGradients(g.grads, loss, g.parts, opt, spec.lr), lr: spec.lr, samples: n };
    }
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
    if (o.threads > 1)
      pool = await GradPool.start({
        threads: o.threads,
        task: {
          kind: "distill",
          method,
          loss: { T: spec.T, softWeight: spec.softWeight, ceWeight: spec.ceWeight, hiddenWeight: spec.hiddenWeight },
          teacher: { name: teacher.name, inputShape: teacher.inputShape, numClasses: teacher.numClasses },
          studentFeatures,
        },
        model: student,
        params,
        teacher,
        regressor,
        trainable: fz.trainable,
        maxBatch: bs,
        backend: o.backend,
      });
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
    await pool?.close();
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
  const teacher =
    "model" in spec.teacher
      ? await trainTeacherStage(spec.teacher, ds, ctx, seed, { fastConv, threads: spec.threads, backend: backend.name })
      : loadTeacherFromRun(spec.teacher, ds, ctx);
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
    // every replica runs the teacher's forward pass and the student's step on its rows
    const macsPerSample = forwardMacs(teacher.layers) + forwardMacs(describeModel(spec.student, ds.inputShape, ds.numClasses).layers);
    const threads = resolveThreads(spec.threads, { backend: backend.name, batchSize: Math.min(spec.batchSize, ds.train.count), macsPerSample });
    ctx.info(threads.reason);
    summary.threads = threads.threads;
    const multi = spec.methods.length > 1;
    let finalStep = 0;
    for (const method of spec.methods) {
      const prefix = multi ? `${method}/` : "";
      const r = await trainStudent(method, spec, ds, teacher, ctx, {
        seed,
        fastConv,
        prefix,
        dir: multi ? join(ctx.checkpointDir, method) : ctx.checkpointDir,
        threads: threads.threads,
        backend: backend.name,
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
