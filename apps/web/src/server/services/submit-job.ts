import { submitDistillOrFinetune, type SubmitInput, type SubmitResult } from "./distill-submit";
import type { Services } from "./index";

/**
 * Queues a job by its spec's kind: distill and finetune specs get their submit-time checks
 * (and a distill spec listing several methods becomes one job per method, in one group);
 * every other kind is queued as given (`spec` is validated against JobSpecSchema there).
 */
export async function submitJob(services: Services, input: SubmitInput): Promise<SubmitResult> {
  const grouped = await submitDistillOrFinetune(services, input);
  if (grouped) return grouped;
  const job = await services.jobs.submit(input.projectId, input.spec, input);
  return { jobId: job.id, jobIds: [job.id], group: input.group ?? null };
}
