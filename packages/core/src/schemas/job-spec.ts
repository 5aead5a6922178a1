import { z } from "zod";

import { CommandSpecSchema } from "./command-spec";
import { DistillSpecSchema } from "./distill-spec";
import { FinetuneSpecSchema } from "./finetune-spec";
import { PipelineSpecSchema } from "./pipeline-spec";
import { TrainSpecSchema } from "./train-spec";
import { VlmSpecSchema, VlmStageSpecSchema } from "./vlm-spec";

/**
 * Every job kind. Each kind's schema lives in its own file. A `pipeline` is never run by a
 * runner: the server turns it into one job per stage (services/pipelines.ts); a `vlm` is a
 * recipe the server expands into a pipeline of `vlm-stage` jobs (jobs/vlm-recipe.ts).
 */
export const JobSpecSchema = z.discriminatedUnion("kind", [
  TrainSpecSchema,
  DistillSpecSchema,
  FinetuneSpecSchema,
  CommandSpecSchema,
  PipelineSpecSchema,
  VlmSpecSchema,
  VlmStageSpecSchema,
]);
export type JobSpec = z.infer<typeof JobSpecSchema>;
