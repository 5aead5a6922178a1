import { AppError, formatIssues, IdSchema, JobSpecSchema, StepSchema } from "@heron/core";
import { z } from "zod";

import type { Principal } from "../auth/principal";
import type { Services } from "./index";
import { createId } from "./job-claim";

export const RunForkInputSchema = z.object({
  runId: IdSchema,
  /** the step to continue from: the child starts from the newest stored checkpoint at or before it */
  step: StepSchema,
  /** top-level spec fields replacing the parent's (e.g. `{ lr: 0.0005 }`); the result must be a valid spec */
  overrides: z.record(z.string().max(100), z.unknown()).optional(),
});
export type RunForkInput = z.infer<typeof RunForkInputSchema>;
/** `step`: the checkpoint's step the child starts from (≤ the asked step); its own steps are > it */
export type RunForkResult = { jobId: string; runId: string; step: number };

/** the fields whose change would make the parent's checkpoint meaningless to the child's code */
const FIXED_FIELDS: Record<string, string[]> = {
  train: ["kind", "model", "dataset"],
  distill: ["kind", "teacher", "student", "dataset"],
  finetune: ["kind", "task", "base", "method", "lora", "dataset"],
  command: ["kind"],
};

/**
 * Forks a job's run at a step: a new job with the parent's spec (plus overrides) that starts
 * from the parent's newest stored checkpoint at or before that step. The checkpoint rows are
 * copied into the child job (cheap: the files are shared, content-addressed), so the child's
 * runner downloads it exactly like a requeued attempt resumes — the training code needs no
 * fork-specific path. The child run is created here, carrying `forkedFromRunId`/`forkStep`:
 * its charts read the parent's points up to `forkStep` from the parent (services/run-fork-series.ts)
 * and its own after. Job, run and checkpoint copy are written in one transaction, so no runner
 * can claim the job before its checkpoint is in place.
 */
export async function forkRun(services: Services, principal: Principal | null, input: RunForkInput): Promise<RunForkResult> {
  const { prisma } = services;
  const parent = await prisma.run.findUnique({ where: { id: input.runId } });
  if (!parent || parent.deletedAt) throw new AppError("NOT_FOUND", `run "${input.runId}" not found`);
  if (!parent.jobId)
    throw new AppError("BAD_REQUEST", `run "${parent.name}" was logged by a script, not a Heron job: only job runs can be forked (they have checkpoints)`);
  const job = await prisma.job.findUnique({ where: { id: parent.jobId } });
  if (!job) throw new AppError("BAD_REQUEST", `the job of run "${parent.name}" no longer exists, so its checkpoints are gone`);

  const last = await lastTrainingStep(services, parent.id);
  if (last === null) throw new AppError("BAD_REQUEST", `run "${parent.name}" has logged no steps yet: nothing to fork from`);
  if (input.step > last) throw new AppError("BAD_REQUEST", `step ${input.step} is beyond run "${parent.name}", whose last step is ${last}`);

  const kept = await storedCheckpointSteps(services, job.id);
  const from = kept.filter((s) => s <= input.step).at(-1);
  if (from === undefined) {
    const list = kept.length ? `it keeps steps ${kept.join(", ")}` : "it stored none";
    throw new AppError("BAD_REQUEST", `run "${parent.name}" has no checkpoint at or before step ${input.step} (${list}); fork at one of those or later`);
  }

  const spec = childSpec(job.spec, input.overrides ?? {});
  const childRunId = createId();
  const childJobId = createId();
  const name = `${parent.name}-fork-${from}`;
  await prisma.$transaction(async (tx) => {
    await tx.job.create({
      data: {
        id: childJobId,
        projectId: job.projectId,
        spec: spec as object,
        kind: spec.kind,
        queue: job.queue,
        priority: job.priority,
        maxAttempts: job.maxAttempts,
        group: job.group,
        submittedBy: principal?.kind === "user" ? principal.userId : null,
        runId: childRunId,
        checkpointStep: from,
      },
    });
    // queued, not running: the claim reopens it (status running) when a runner takes the job
    await tx.run.create({
      data: {
        id: childRunId,
        projectId: job.projectId,
        name,
        status: "running",
        config: spec as object,
        group: job.group,
        jobId: childJobId,
        tags: parent.tags ?? undefined,
        forkedFromRunId: parent.id,
        forkStep: from,
        heartbeatAt: new Date(),
      },
    });
    await copyCheckpoint(tx, job.id, from, childJobId);
    await tx.jobEvent.create({
      data: { jobId: childJobId, type: "queued", attempt: 0, message: `forked from run ${parent.name} at its checkpoint of step ${from}` },
    });
  });
  await services.audit.record(principal, {
    action: "run.forked",
    target: `run:${childRunId}`,
    detail: { parentRunId: parent.id, step: from, jobId: childJobId },
  });
  services.notifier.workAvailable();
  return { jobId: childJobId, runId: childRunId, step: from };
}

/** the highest training step a run logged (system metrics are stepped in seconds and do not count) */
async function lastTrainingStep(services: Services, runId: string): Promise<number | null> {
  const summary = (await services.metrics.summaries([runId]))[runId] ?? {};
  const steps = Object.entries(summary)
    .filter(([key]) => !key.startsWith("sys/"))
    .map(([, s]) => s.maxStep);
  return steps.length ? Math.max(...steps) : null;
}

/** the parent's spec with the overrides applied, validated like any submitted spec */
function childSpec(parentSpec: unknown, overrides: Record<string, unknown>) {
  const base = (parentSpec ?? {}) as Record<string, unknown>;
  const kind = String(base.kind);
  for (const field of FIXED_FIELDS[kind] ?? ["kind"]) {
    if (field in overrides && JSON.stringify(overrides[field]) !== JSON.stringify(base[field]))
      throw new AppError("BAD_REQUEST", `overrides: "${field}" cannot change in a fork of a ${kind} job (the parent's checkpoint is for its ${field})`);
  }
  const parsed = JobSpecSchema.safeParse({ ...base, ...overrides });
  if (!parsed.success) throw new AppError("BAD_REQUEST", `overrides: the forked spec is invalid: ${formatIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** steps of the job's complete checkpoints stored on the server, ascending */
async function storedCheckpointSteps(services: Services, jobId: string): Promise<number[]> {
  const rows = await services.prisma.jobCheckpoint.findMany({ where: { jobId, complete: true }, orderBy: { step: "asc" }, select: { step: true } });
  return rows.map((r) => r.step);
}

type Tx = Parameters<Parameters<Services["prisma"]["$transaction"]>[0]>[0];

/**
 * One checkpoint of `fromJob` becomes `toJob`'s newest (and only) one, copied inside the
 * database: its file rows point at the same content-addressed blobs, so no bytes move, and
 * the blobs stay while either job refers to them.
 */
async function copyCheckpoint(tx: Tx, fromJob: string, step: number, toJob: string) {
  await tx.$executeRaw`INSERT INTO "JobCheckpoint" ("jobId", "step", "attempt", "files", "complete", "createdAt")
    SELECT ${toJob}, "step", 0, "files", "complete", "createdAt" FROM "JobCheckpoint" WHERE "jobId" = ${fromJob} AND "step" = ${step}`;
  await tx.$executeRaw`INSERT INTO "JobCheckpointFile" ("jobId", "step", "name", "digest", "bytes")
    SELECT ${toJob}, "step", "name", "digest", "bytes" FROM "JobCheckpointFile" WHERE "jobId" = ${fromJob} AND "step" = ${step}`;
}
