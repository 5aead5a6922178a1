import { z } from "zod";

import { IdSchema } from "./common";
import { OutputArtifactSchema, SourceArtifactSchema, SourceStageSchema } from "./source-artifact";
import { DatasetNameSchema, ModelNameSchema } from "./train-spec";
import { trainingFields } from "./training-fields";

/**
 * `kind: "distill"` — seed 003's knowledge distillation: a frozen teacher, a student, one
 * or more methods. `job.submit` with several methods launches one job (and run) per method
 * under one group; a job given several methods directly (e.g. `heron` locally) runs them
 * one after another. Browser-safe (the dashboard's form validates with it).
 */
export const DistillMethodSchema = z.enum(["ce", "kd", "cosine", "regressor"], {
  error: () => "method must be one of ce, kd, cosine, regressor",
});
export type DistillMethod = z.infer<typeof DistillMethodSchema>;

const int = (name: string) => z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);
const weight = (name: string, dflt: number) =>
  z
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be ≥ 0`)
    .max(100, `${name} must be ≤ 100`)
    .default(dflt);

/** the teacher is a finished run's checkpoint; `jobId` is filled in by the server at submit */
export const TeacherFromRunSchema = z.object({ runId: IdSchema, jobId: IdSchema.optional() }).strict();
/** or it is trained in the same job as a first stage (same data, same seed) */
export const TeacherStageSchema = z
  .object({
    model: ModelNameSchema,
    epochs: int("teacher.epochs").min(1, "teacher.epochs must be ≥ 1").max(1000, "teacher.epochs must be ≤ 1000"),
    lr: z.number({ error: "teacher.lr must be a number" }).positive("teacher.lr must be > 0").max(10, "teacher.lr must be ≤ 10").default(0.001),
    batchSize: int("teacher.batchSize").min(1, "teacher.batchSize must be ≥ 1").max(65_536, "teacher.batchSize must be ≤ 65536").optional(),
    maxTrainSamples: int("teacher.maxTrainSamples").min(1, "teacher.maxTrainSamples must be ≥ 1").optional(),
  })
  .strict();

export const DistillSpecSchema = z
  .object({
    kind: z.literal("distill"),
    teacher: z.union([TeacherFromRunSchema, SourceArtifactSchema, SourceStageSchema, TeacherStageSchema], {
      error: () =>
        'teacher must be {runId} (a finished run\'s checkpoint), {artifact: "name:alias"} (a model artifact), {fromStage} (an earlier stage of the pipeline) or {model, epochs, lr?} (trained first in this job)',
    }),
    student: ModelNameSchema.default("light-cnn"),
    methods: z.array(DistillMethodSchema).min(1, "methods must list at least one of ce, kd, cosine, regressor").max(4, "methods lists at most 4 methods"),
    /** KD temperature (seed 003: 2) */
    T: z.number({ error: "T must be a number" }).positive("T must be > 0").max(100, "T must be ≤ 100").default(2),
    /** weight of the soft-target (KD) loss (seed 003: 0.25) */
    softWeight: weight("softWeight", 0.25),
    /** weight of the hard-label cross-entropy in kd/cosine/regressor (seed 003: 0.75) */
    ceWeight: weight("ceWeight", 0.75),
    /** weight of the hidden-representation loss in cosine/regressor (seed 003: 0.25) */
    hiddenWeight: weight("hiddenWeight", 0.25),
    dataset: DatasetNameSchema,
    cifarPath: z.string().min(1, "cifarPath must not be empty").optional(),
    epochs: int("epochs").min(1, "epochs must be ≥ 1").max(10_000, "epochs must be ≤ 10000"),
    batchSize: int("batchSize").min(1, "batchSize must be ≥ 1").max(65_536, "batchSize must be ≤ 65536"),
    lr: z.number({ error: "lr must be a number" }).positive("lr must be > 0").max(10, "lr must be ≤ 10"),
    maxTrainSamples: int("maxTrainSamples").min(1, "maxTrainSamples must be ≥ 1").optional(),
    maxTestSamples: int("maxTestSamples").min(1, "maxTestSamples must be ≥ 1").optional(),
    seed: int("seed")
      .min(0, "seed must be ≥ 0")
      .max(2 ** 32 - 1, "seed must be < 2^32")
      .optional(),
    logEvery: int("logEvery").min(1, "logEvery must be ≥ 1").default(10),
    /** also checkpoint every N steps inside an epoch (a requeued attempt resumes there) */
    checkpointEvery: int("checkpointEvery").min(1, "checkpointEvery must be ≥ 1").optional(),
    ...trainingFields,
    /** the model artifact the student is logged as when the job succeeds (default `<run name>-model`) */
    artifact: OutputArtifactSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (new Set(s.methods).size !== s.methods.length) ctx.addIssue({ code: "custom", path: ["methods"], message: "methods must not repeat a method" });
    if (s.dataset === "cifar10" && !s.cifarPath) ctx.addIssue({ code: "custom", path: ["cifarPath"], message: "cifarPath is required for dataset cifar10" });
    const shape = DATASET_SHAPES[s.dataset] ?? [28, 28, 1];
    const teacherModel = "model" in s.teacher ? s.teacher.model : undefined;
    for (const m of s.methods) {
      const why = teacherModel ? featureAlignmentError(m, teacherModel, s.student, shape) : featureAlignmentError(m, null, s.student, shape);
      if (why) ctx.addIssue({ code: "custom", path: ["methods"], message: why });
    }
  });
export type DistillSpec = z.infer<typeof DistillSpecSchema>;
export type DistillSpecInput = z.input<typeof DistillSpecSchema>;

/** H, W, C of each packaged dataset (synthetic: its default) */
export const DATASET_SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  "fashion-mnist": [28, 28, 1],
  cifar10: [32, 32, 3],
  synthetic: [28, 28, 1],
};

/**
 * The tensors the distillation losses compare, per seed model, without tfjs (so the server
 * can refuse a spec at submit): `features` = flattened conv output (MLPs: the hidden layer),
 * `featureMap` = last conv block's output [H, W, C]. A test checks these against the
 * models' real forward pass.
 */
export function describeDistillFeatures(model: string, input: [number, number, number]): { features: number; featureMap: [number, number, number] | null } {
  const [h, w] = input;
  const q = (x: number) => Math.floor(Math.floor(x / 2) / 2);
  switch (model) {
    case "deep-cnn":
      return { features: 32 * q(h) * q(w), featureMap: [q(h), q(w), 32] };
    case "light-cnn":
      return { features: 16 * q(h) * q(w), featureMap: [q(h), q(w), 16] };
    default:
      return { features: 128, featureMap: null };
  }
}

/**
 * Why `method` cannot run for this teacher/student pair (null when it can). The teacher
 * model may be unknown (null) until the checkpoint is read: then only the student is checked.
 */
export function featureAlignmentError(method: DistillMethod, teacher: string | null, student: string, input: [number, number, number]): string | null {
  const s = describeDistillFeatures(student, input);
  if (method === "regressor" && !s.featureMap) return `regressor needs a convolutional student with a feature map; ${student} has none`;
  if (!teacher) return null;
  const t = describeDistillFeatures(teacher, input);
  if (method === "cosine") {
    const [big, small] = t.features >= s.features ? [t.features, s.features] : [s.features, t.features];
    if (big % small !== 0)
      return `cosine: teacher ${teacher} has ${t.features} features and student ${student} ${s.features}; average pooling can only align widths that divide each other`;
  }
  if (method === "regressor") {
    if (!t.featureMap) return `regressor needs a convolutional teacher with a feature map; ${teacher} has none`;
    if (t.featureMap[0] !== s.featureMap![0] || t.featureMap[1] !== s.featureMap![1])
      return `regressor: teacher feature map ${t.featureMap.join("×")} and student ${s.featureMap!.join("×")} differ in height/width; a 3×3 regressor cannot align them`;
  }
  return null;
}
