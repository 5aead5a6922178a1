/**
 * `kind: "finetune"` jobs: the text model (seed 002) or an image reference model. Image
 * fine-tunes choose their data-parallel threads themselves; text ones run on one thread.
 */
import type { JobContext, JobResult } from "../../jobs/job-context";
import { type FinetuneSpec, type FinetuneSpecInput, FinetuneSpecSchema } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { singleThreadNote } from "../parallel/threads";
import { runImageFinetune } from "./image-finetune";
import { runTextFinetune } from "./text-finetune";

export async function runFinetuneJob(specIn: FinetuneSpec | FinetuneSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = FinetuneSpecSchema.parse(specIn);
  const backend = await selectBackend();
  if (spec.task === "image") return runImageFinetune(spec, ctx, backend.name);
  const note = singleThreadNote("text fine-tuning", spec.threads);
  if (note) ctx.info(note);
  return runTextFinetune(spec, ctx, backend.name);
}
