import type { UserPrincipal } from "../auth/principal";
import { submitDistillOrFinetune, type SubmitInput, type SubmitResult } from "./distill-submit";
import type { Services } from "./index";
import { latestProgress } from "./job-progress";
import { submitPipeline } from "./pipeline-submit";
import type { Actor } from "./project-members";

export type JobFilter = { projectId?: string; status?: string; queue?: string; runnerId?: string; limit?: number };

/**
 * Queues a job by its spec's kind: a pipeline becomes its pipeline job and one job per stage
 * (services/pipeline-submit.ts); distill and finetune specs get their submit-time checks
 * (and a distill spec listing several methods becomes one job per method, in one group);
 * every other kind is queued as given (`spec` is validated against JobSpecSchema there).
 */
export async function submitJob(services: Services, input: SubmitInput): Promise<SubmitResult> {
  const pipeline = await submitPipeline(services, input);
  if (pipeline) return pipeline;
  const grouped = await submitDistillOrFinetune(services, input);
  if (grouped) return grouped;
  const job = await services.jobs.submit(input.projectId, input.spec, input);
  if (job.kind === "command") await noteCommandJobWaits(services, job.id, job.queue);
  return { jobId: job.id, jobIds: [job.id], group: input.group ?? null };
}

/** a command job waits for a runner started with --allow-commands: say so where job.get / job.events show it */
async function noteCommandJobWaits(services: Services, jobId: string, queue: string) {
  await services.prisma.jobEvent.create({
    data: { jobId, type: "waiting", message: `command jobs run only on runners started with --allow-commands that serve queue "${queue}"` },
  });
}

/** jobs the caller may see; `projectId` accepts a project's id or name */
export async function listJobs(services: Services, p: UserPrincipal, filter: JobFilter) {
  const projectId = filter.projectId ? (await services.projects.get(filter.projectId)).id : undefined;
  const jobs = await services.jobs.list({ ...filter, projectId, visibleProjectIds: await services.access.visibleProjectIds(p) });
  // progress and ETA for the jobs still training (read from their run's log: services/job-progress.ts)
  const progress = await latestProgress(
    services,
    jobs.filter((j) => j.status === "running" && j.runId).map((j) => j.runId!),
  );
  const stages = await stageSummaries(
    services,
    jobs.filter((j) => j.kind === "pipeline").map((j) => j.id),
  );
  return jobs.map((j) => ({
    ...j,
    progress: j.status === "running" && j.runId ? (progress[j.runId] ?? null) : null,
    stages: j.kind === "pipeline" ? (stages.get(j.id) ?? []) : null,
  }));
}

/** the job; a pipeline's also lists its stages in order, with the running stage's progress */
export async function getJob(services: Services, jobId: string) {
  const job = await services.jobs.get(jobId);
  const stages = job.kind === "pipeline" ? ((await stageSummaries(services, [job.id])).get(job.id) ?? []) : null;
  return { ...job, stages };
}

/** per pipeline job: `{name, index, jobId, runId, kind, status, attempts, error, progress}` of each stage */
async function stageSummaries(services: Services, pipelineJobIds: string[]) {
  const out = new Map<string, StageSummary[]>();
  if (!pipelineJobIds.length) return out;
  const rows = await services.prisma.job.findMany({
    where: { pipelineJobId: { in: pipelineJobIds } },
    orderBy: [{ pipelineJobId: "asc" }, { stageIndex: "asc" }],
    select: { id: true, pipelineJobId: true, stageName: true, stageIndex: true, status: true, runId: true, kind: true, attempts: true, error: true },
  });
  const progress = await latestProgress(
    services,
    rows.filter((r) => r.status === "running" && r.runId).map((r) => r.runId!),
  );
  for (const r of rows) {
    const list = out.get(r.pipelineJobId!) ?? [];
    list.push({
      name: r.stageName ?? String(r.stageIndex),
      index: r.stageIndex ?? list.length,
      jobId: r.id,
      runId: r.runId,
      kind: r.kind,
      status: r.status,
      attempts: r.attempts,
      error: r.error?.slice(-2000) ?? null,
      progress: r.status === "running" && r.runId ? (progress[r.runId] ?? null) : null,
    });
    out.set(r.pipelineJobId!, list);
  }
  return out;
}
type StageSummary = {
  name: string;
  index: number;
  jobId: string;
  runId: string | null;
  kind: string;
  status: string;
  attempts: number;
  error: string | null;
  progress: Awaited<ReturnType<typeof latestProgress>>[string] | null;
};

/** asks the job to stop (its runner is told at once); recorded in the audit log */
export async function cancelJob(services: Services, actor: Actor, jobId: string) {
  const job = await services.jobs.cancel(jobId);
  await services.audit.record(actor.principal, { action: "job.cancelled", target: `job:${jobId}`, detail: { status: job.status }, ip: actor.ip });
  return job;
}
