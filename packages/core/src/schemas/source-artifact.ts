import { z } from "zod";

import { ArtifactNameSchema, ArtifactRefStringSchema } from "./artifacts";
import { IdSchema } from "./common";

/**
 * A distill teacher or fine-tune base given as a model artifact of the job's project:
 * `{artifact: "name" | "name:alias" | "name:v3"}`. job.submit resolves it to one version and
 * fills in `versionId`, so a later alias move does not change what a queued or requeued job
 * starts from. Its files are one checkpoint folder (meta.json + tensors.bin), like the model
 * artifacts finished jobs log.
 */
export const SourceArtifactSchema = z.object({ artifact: ArtifactRefStringSchema, versionId: IdSchema.optional() }).strict();
export type SourceArtifact = z.infer<typeof SourceArtifactSchema>;

/**
 * Where a train, distill or fine-tune job that succeeds logs its final model (the newest
 * checkpoint) as a `model` artifact: `{name}`; without it the name is `<run name>-model`.
 */
export const OutputArtifactSchema = z.object({ name: ArtifactNameSchema }).strict();

/**
 * A distill teacher or fine-tune base that is an earlier stage of the same pipeline:
 * `{fromStage: "name"}`. The pipeline fills in `jobId` (that stage's job) when it creates the
 * stage jobs, and the runner fetches that job's newest checkpoint as it does a run's; a
 * single job (not a pipeline stage) cannot carry it.
 */
export const SourceStageSchema = z
  .object({
    fromStage: z.string().min(1, "fromStage must not be empty").max(100, "fromStage is longer than 100 characters"),
    jobId: IdSchema.optional(),
  })
  .strict();
export type SourceStage = z.infer<typeof SourceStageSchema>;
