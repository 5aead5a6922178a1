import { z } from "zod";

import { DatasetNameSchema } from "./train-spec";
import { trainingFields } from "./training-fields";

/**
 * A mini vision-language model after seed 001 (MiniMind-V), small enough to train on a CPU:
 *   encoder   a small CNN trained as a classifier on the dataset (stands in for CLIP)
 *   proj      a linear projection of the encoder's feature map, read as a grid of patch
 *             tokens, into the LM's hidden size
 *   lm        a small word-level decoder-only transformer; the projected image tokens replace
 *             the `<image>` placeholder's positions in the prompt
 * Parameter names: `encoder.conv1.weight`, `encoder.head.bias`, `proj.weight`,
 * `lm.tok_emb`, `lm.layers.<i>.attn.q_proj.weight`, `lm.ln_f.weight`, `lm.head.weight` …
 *
 * `kind: "vlm"` is the ready recipe (every field defaulted but `dataset`); the server expands
 * it into a pipeline of three `kind: "vlm-stage"` jobs (jobs/vlm-recipe.ts): encoder →
 * pretrain (only proj and the LM's last layer train) → sft (the whole LM and proj train),
 * the encoder frozen after its stage. Browser-safe.
 */
const int = (name: string) => z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);
const pos = (name: string, max: number) => int(name).min(1, `${name} must be ≥ 1`).max(max, `${name} must be ≤ ${max}`);
const lr = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .positive(`${name} must be > 0`)
    .max(10, `${name} must be ≤ 10`);

export const VLM_STAGES = ["encoder", "pretrain", "sft"] as const;
export type VlmStageName = (typeof VLM_STAGES)[number];

/** the datasets the recipe generates captions and questions for (class names and attributes) */
export const VlmDatasetSchema = DatasetNameSchema.refine((d) => d !== "mnist", {
  message: "the vlm recipe supports fashion-mnist, cifar10 and synthetic (mnist digits have no attributes to ask about)",
});

export const VlmEncoderConfigSchema = z
  .object({
    /**
     * filters of the 3×3 conv blocks (each conv → ReLU → 2×2 max-pool); the last block's
     * feature map is the patch-token grid (28×28 → 3×3 = 9 tokens with three blocks)
     */
    channels: z
      .array(pos("encoder.channels[]", 256))
      .min(1, "encoder.channels needs at least one conv block")
      .max(4, "encoder.channels holds at most 4 conv blocks")
      .default([8, 16, 32]),
  })
  .strict();

export const VlmLmConfigSchema = z
  .object({
    dModel: pos("lm.dModel", 512).default(64),
    layers: pos("lm.layers", 12).default(2),
    heads: pos("lm.heads", 16).default(4),
  })
  .strict()
  .refine((m) => m.dModel % m.heads === 0, { message: "lm.dModel must be a multiple of lm.heads", path: ["dModel"] });

/** the model fields every stage of one pipeline must agree on (their checkpoints are exchanged) */
const modelFields = {
  dataset: VlmDatasetSchema,
  /** directory holding CIFAR-10's official binary batches */
  cifarPath: z.string().min(1, "cifarPath must not be empty").optional(),
  maxTrainSamples: pos("maxTrainSamples", 10_000_000).optional(),
  maxTestSamples: pos("maxTestSamples", 10_000_000).optional(),
  seed: int("seed")
    .min(0, "seed must be ≥ 0")
    .max(2 ** 32 - 1, "seed must be < 2^32")
    .optional(),
  encoder: VlmEncoderConfigSchema.default({ channels: [8, 16, 32] }),
  lm: VlmLmConfigSchema.default({ dModel: 64, layers: 2, heads: 4 }),
  /** average-pool the encoder's feature map by this factor into the patch-token grid (1: every position is a token) */
  patchPool: pos("patchPool", 8).default(1),
};

/** per-stage defaults: epochs, learning rate (Adam), batch size */
export const VLM_STAGE_DEFAULTS: Record<VlmStageName, { epochs: number; lr: number; batchSize: number }> = {
  encoder: { epochs: 3, lr: 0.002, batchSize: 64 },
  pretrain: { epochs: 2, lr: 0.003, batchSize: 64 },
  sft: { epochs: 4, lr: 0.002, batchSize: 64 },
};

export const VlmStageSpecSchema = z
  .object({
    kind: z.literal("vlm-stage"),
    stage: z.enum(VLM_STAGES, { error: () => "stage must be encoder, pretrain or sft" }),
    ...modelFields,
    /** default per stage (VLM_STAGE_DEFAULTS) */
    epochs: pos("epochs", 1000).optional(),
    lr: lr("lr").optional(),
    batchSize: pos("batchSize", 4096).optional(),
    clipGradNorm: z.number({ error: "clipGradNorm must be a number" }).min(0, "clipGradNorm must be ≥ 0 (0: no clipping)").default(1),
    logEvery: pos("logEvery", 1_000_000).default(20),
    /** text samples (question, the model's answer, the truth, the image) logged per epoch */
    samples: int("samples").min(0, "samples must be ≥ 0").max(32, "samples must be ≤ 32").default(6),
    /** also checkpoint every N optimizer steps (a checkpoint is always written at each epoch end) */
    checkpointEvery: pos("checkpointEvery", 1_000_000).optional(),
    ...trainingFields,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.dataset === "cifar10" && !s.cifarPath) ctx.addIssue({ code: "custom", path: ["cifarPath"], message: "cifarPath is required for dataset cifar10" });
  });
export type VlmStageSpec = z.infer<typeof VlmStageSpecSchema>;
export type VlmStageSpecInput = z.input<typeof VlmStageSpecSchema>;

const stageOverrides = (name: string) =>
  z
    .object({ epochs: pos(`${name}.epochs`, 1000).optional(), lr: lr(`${name}.lr`).optional(), batchSize: pos(`${name}.batchSize`, 4096).optional() })
    .strict()
    .default({});

export const VlmSpecSchema = z
  .object({
    kind: z.literal("vlm"),
    name: z.string().min(1, "name must not be empty").max(200, "name is longer than 200 characters").optional(),
    ...modelFields,
    /** per-stage epochs / lr / batchSize over VLM_STAGE_DEFAULTS */
    encoderStage: stageOverrides("encoderStage"),
    pretrainStage: stageOverrides("pretrainStage"),
    sftStage: stageOverrides("sftStage"),
    logEvery: pos("logEvery", 1_000_000).default(20),
    samples: int("samples").min(0, "samples must be ≥ 0").max(32, "samples must be ≤ 32").default(6),
    checkpointEvery: pos("checkpointEvery", 1_000_000).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.dataset === "cifar10" && !s.cifarPath) ctx.addIssue({ code: "custom", path: ["cifarPath"], message: "cifarPath is required for dataset cifar10" });
  });
export type VlmSpec = z.infer<typeof VlmSpecSchema>;
export type VlmSpecInput = z.input<typeof VlmSpecSchema>;
