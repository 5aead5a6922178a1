/** `kind: "finetune"` jobs: the text model (seed 002) or an image reference model. */
import type { JobContext, JobResult } from "../../jobs/job-context";
import { type FinetuneSpec, type FinetuneSpecInput, FinetuneSpecSchema } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { singleThreadNote } from "../parallel/threads";
import { runImageFinetune } from "./image-finetune";
import { runTextFinetune } from "./text-finetune";

export async function runFinetuneJob(specIn: FinetuneSpec | FinetuneSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = FinetuneSpecSchema.parse(specIn);
  const backend = await selectBackend();
  const note = singleThreadNote("fine-tuning", spec.threads);
  if (note) ctx.info(note);
  return spec.task === "text" ? runTextFinetune(spec, ctx, backend.name) : runImageFinetune(spec, ctx, backend.name);
}
