import { z } from "zod";

import { CommandSpecSchema } from "./command-spec";
import { DistillSpecSchema } from "./distill-spec";
import { FinetuneSpecSchema } from "./finetune-spec";
import { TrainSpecSchema } from "./train-spec";

/** Every job kind a runner can execute. Each kind's schema lives in its own file. */
export const JobSpecSchema = z.discriminatedUnion("kind", [TrainSpecSchema, DistillSpecSchema, FinetuneSpecSchema, CommandSpecSchema]);
export type JobSpec = z.infer<typeof JobSpecSchema>;
