/**
 * `kind: "finetune"` jobs: the text model (seed 002) or an image reference model. Each
 * chooses its data-parallel threads itself, per stage (the base's pre-training, fine-tuning).
 */
import type { JobContext, JobResult } from "../../jobs/job-context";
import { type FinetuneSpec, type FinetuneSpecInput, FinetuneSpecSchema } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { runImageFinetune } from "./image-finetune";
import { runTextFinetune } from "./text-finetune";

export async function runFinetuneJob(specIn: FinetuneSpec | FinetuneSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = FinetuneSpecSchema.parse(specIn);
  const backend = await selectBackend();
  return spec.task === "text" ? runTextFinetune(spec, ctx, backend.name) : runImageFinetune(spec, ctx, backend.name);
}
