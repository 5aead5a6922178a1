import { z } from "zod";

import { globListSchema } from "../glob";
import { IdSchema } from "./common";

/**
 * Fields every training spec carries (train, distill, finetune, vlm-stage): which parameters
 * train, what the stage starts from, what its checkpoints hold. Parameter names are the
 * models' stable dotted paths ("features.0.weight", "encoder.conv1.kernel",
 * "lm.layers.3.attn.q_proj.kernel"); patterns are dotted globs (glob.ts: `*` inside one
 * segment, `**` across segments). A pattern that matches no parameter fails the job with
 * that pattern named — decided by the job, which knows its model (ml/freeze.ts).
 * Browser-safe: the server and the dashboard's forms validate with it.
 *
 * Spread `trainingFields` into a spec's `z.object({...})`.
 */
export const InitSchema = z
  .object({
    /** name of the earlier pipeline stage to start from (the pipeline resolves it to `jobId`) */
    fromStage: z.string().min(1, "init.fromStage must not be empty").max(100, "init.fromStage is longer than 100 characters").optional(),
    /** tensor names to load from that checkpoint (globs); default: every tensor the model also has */
    load: globListSchema("init.load").optional(),
    /** filled by the server: the job whose newest checkpoint this stage starts from */
    jobId: IdSchema.optional(),
    /**
     * filled by the server: every earlier stage's job id. The runner makes each one's
     * checkpoints available under `<HERON_HOME>/checkpoints/<jobId>/`, so references to frozen
     * tensors kept by an earlier stage (see CheckpointManifest) resolve on any host.
     */
    sources: z.array(IdSchema).max(64, "init.sources holds at most 64 job ids").optional(),
  })
  .strict();
export type StageInit = z.infer<typeof InitSchema>;

export const CheckpointOptionsSchema = z
  .object({
    /**
     * Leave frozen tensors out of this job's checkpoints and store a reference to the
     * checkpoint that holds them instead. Default (unset): on for frozen tensors loaded by
     * `init` (their source is known); `false` stores every tensor. A frozen tensor with no
     * source (fresh init) is always stored.
     */
    excludeFrozen: z.boolean({ error: "checkpoint.excludeFrozen must be true or false" }).optional(),
  })
  .strict();
export type CheckpointOptions = z.infer<typeof CheckpointOptionsSchema>;

/**
 * CPU threads of one job: data-parallel replicas on worker_threads (ml/parallel/). "auto"
 * (the default) uses the cores the runner grants the job's slot. Results equal one thread's
 * up to float summation order, and are exactly reproducible for a given thread count.
 */
export const ThreadsSchema = z.union([z.number().int().min(1).max(64), z.literal("auto")], {
  error: () => 'threads must be an integer in [1, 64] or "auto"',
});
export type Threads = z.infer<typeof ThreadsSchema>;

export const trainingFields = {
  threads: ThreadsSchema.optional(),
  /** parameters matching any of these stay fixed (excluded from the optimizer); wins over `train` */
  freeze: globListSchema("freeze").optional(),
  /** when given, only parameters matching one of these train; everything else is frozen */
  train: globListSchema("train").optional(),
  checkpoint: CheckpointOptionsSchema.optional(),
  init: InitSchema.optional(),
};

/** the parsed fields, as a job reads them from its spec */
export type TrainingFields = {
  threads?: Threads;
  freeze?: string[];
  train?: string[];
  checkpoint?: CheckpointOptions;
  init?: StageInit;
};

/** where an excluded tensor lives: the newest checkpoint (at `step`) of job `jobId` */
export const TensorRefSchema = z.object({ jobId: IdSchema, step: z.number().int().min(0) }).strict();
export type TensorRef = z.infer<typeof TensorRefSchema>;

/**
 * `manifest.json` in every checkpoint folder (`ckpt-<step>/`): every model tensor by name
 * with its shape, and for each one left out of `tensors.bin` the checkpoint holding it.
 * Small on purpose — the server lists tensor names from it without reading the weights.
 */
export const CheckpointManifestSchema = z.object({
  version: z.literal(1),
  step: z.number().int().min(0),
  model: z.string(),
  tensors: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().min(0)),
      /** absent: stored in this checkpoint's tensors.bin */
      ref: TensorRefSchema.optional(),
    }),
  ),
});
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;
