import { z } from "zod";

import { OutputArtifactSchema } from "./source-artifact";
import { trainingFields } from "./training-fields";

/**
 * `kind: "train"` — supervised training of one of the reference models.
 * Specs are stored with their jobs: extend here, keep old fields valid.
 * Browser-safe: no tfjs or node imports (the dashboard's job form validates with it).
 */
export const DatasetNameSchema = z.enum(["mnist", "fashion-mnist", "cifar10", "synthetic"], {
  error: () => "dataset must be one of mnist, fashion-mnist, cifar10, synthetic",
});
export const ModelNameSchema = z.enum(["mlp-mnist", "mlp-cifar", "deep-cnn", "light-cnn"], {
  error: () => "model must be one of mlp-mnist, mlp-cifar, deep-cnn, light-cnn",
});
export const OptimizerNameSchema = z.enum(["sgd", "adam"], { error: () => "optimizer must be sgd or adam" });
export const LrScheduleSchema = z.enum(["constant", "linear", "cosine"], {
  error: () => "schedule must be constant, linear or cosine",
});

const int = (name: string) => z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);

export const TrainSpecSchema = z
  .object({
    kind: z.literal("train"),
    dataset: DatasetNameSchema,
    model: ModelNameSchema,
    epochs: int("epochs").min(1, "epochs must be ≥ 1").max(10_000, "epochs must be ≤ 10000"),
    /** a power of two is not required; "auto" asks the memory planner (80% of the device budget) */
    batchSize: z.union([int("batchSize").min(1, "batchSize must be ≥ 1").max(65_536, "batchSize must be ≤ 65536"), z.literal("auto")], {
      error: () => 'batchSize must be an integer in [1, 65536] or "auto"',
    }),
    /** peak learning rate (after warmup) */
    lr: z.number({ error: "lr must be a number" }).positive("lr must be > 0").max(10, "lr must be ≤ 10"),
    optimizer: OptimizerNameSchema.default("adam"),
    /** SGD only: classic (PyTorch-style) momentum; 0 = plain SGD */
    momentum: z.number().min(0, "momentum must be in [0, 1)").lt(1, "momentum must be in [0, 1)").default(0),
    /** Adam only */
    beta1: z.number().min(0, "beta1 must be in [0, 1)").lt(1, "beta1 must be in [0, 1)").default(0.9),
    beta2: z.number().min(0, "beta2 must be in [0, 1)").lt(1, "beta2 must be in [0, 1)").default(0.999),
    eps: z.number().positive("eps must be > 0").max(1, "eps must be ≤ 1").default(1e-8),
    /** L2 penalty added to the gradient (PyTorch `weight_decay`) */
    weightDecay: z.number().min(0, "weightDecay must be ≥ 0").max(1, "weightDecay must be ≤ 1").default(0),
    schedule: LrScheduleSchema.default("constant"),
    /** linear ramp from 0 to lr over this many optimizer steps, then the schedule */
    warmupSteps: int("warmupSteps").min(0, "warmupSteps must be ≥ 0").default(0),
    /** micro-batches of `batchSize` summed into one optimizer step (effective batch = batchSize × this) */
    gradAccumulation: int("gradAccumulation").min(1, "gradAccumulation must be ≥ 1").max(1024, "gradAccumulation must be ≤ 1024").default(1),
    /** clip the global L2 norm of the gradients to this value (train/grad_norm logs the norm before clipping) */
    clipGradNorm: z.number().positive("clipGradNorm must be > 0").optional(),
    /** also checkpoint every N optimizer steps (a checkpoint is always written at the end of each epoch) */
    checkpointEvery: int("checkpointEvery").min(1, "checkpointEvery must be ≥ 1").optional(),
    /** directory holding CIFAR-10's official binary batches (data_batch_1.bin … test_batch.bin) */
    cifarPath: z.string().min(1, "cifarPath must not be empty").optional(),
    maxTrainSamples: int("maxTrainSamples").min(1, "maxTrainSamples must be ≥ 1").optional(),
    maxTestSamples: int("maxTestSamples").min(1, "maxTestSamples must be ≥ 1").optional(),
    seed: int("seed")
      .min(0, "seed must be ≥ 0")
      .max(2 ** 32 - 1, "seed must be < 2^32")
      .optional(),
    logEvery: int("logEvery").min(1, "logEvery must be ≥ 1").default(10),
    ...trainingFields,
    /** the model artifact the final checkpoint is logged as when the job succeeds (default `<run name>-model`) */
    artifact: OutputArtifactSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.dataset === "cifar10" && !s.cifarPath) {
      ctx.addIssue({ code: "custom", path: ["cifarPath"], message: "cifarPath is required for dataset cifar10 (a folder with the official binary batches)" });
    }
    if (s.optimizer === "adam" && s.momentum !== 0) {
      ctx.addIssue({ code: "custom", path: ["momentum"], message: "momentum applies to optimizer sgd only (Adam uses beta1)" });
    }
  });
export type TrainSpec = z.infer<typeof TrainSpecSchema>;
/** what a user writes (defaults not yet applied) */
export type TrainSpecInput = z.input<typeof TrainSpecSchema>;
