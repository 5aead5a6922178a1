// Node-only: dispatches a validated job spec to the code that executes its kind.
// The ML code is imported lazily so the daemon and tools that never train stay light.
import type { JobSpec } from "../schemas/job-spec";
import type { JobContext, JobResult } from "./job-context";

export async function runJob(spec: JobSpec, ctx: JobContext): Promise<JobResult> {
  switch (spec.kind) {
    case "vlm-stage": {
      const { runVlmStageJob } = await import("../ml/vlm/vlm-job");
      return runVlmStageJob(spec, ctx);
    }
    case "train": {
      const { runTrainJob } = await import("../ml/index");
      return runTrainJob(spec, ctx);
    }
    case "distill": {
      const { runDistillJob } = await import("../ml/distill/distill-job");
      return runDistillJob(spec, ctx);
    }
    case "finetune": {
      const { runFinetuneJob } = await import("../ml/finetune/finetune-job");
      return runFinetuneJob(spec, ctx);
    }
    default:
      throw new Error(`this runner cannot execute jobs of kind "${(spec as { kind: string }).kind}"`);
  }
}
