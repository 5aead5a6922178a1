import type { JobContext, JobResult } from "../../jobs/job-context";
import type { FinetuneSpec } from "../../schemas/finetune-spec";

export async function runFinetuneJob(_spec: FinetuneSpec, _ctx: JobContext): Promise<JobResult> {
  throw new Error("finetune jobs are not available on this runner yet");
}
