import { z } from "zod";
import { TrainSpecSchema } from "./train-spec";

/** Every job kind a runner can execute. Each kind's schema lives in its own file. */
export const JobSpecSchema = z.discriminatedUnion("kind", [TrainSpecSchema]);
export type JobSpec = z.infer<typeof JobSpecSchema>;
