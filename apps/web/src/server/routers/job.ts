import { IdSchema, JobStatusSchema } from "@heron/core";
import { z } from "zod";

import { cancelJob, getJob, listJobs, submitJob } from "../services/job-requests";
import { authedProcedure, router } from "../trpc";

export const QueueNameSchema = z
  .string()
  .min(1, "queue must not be empty")
  .max(100, "queue is longer than 100 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "queue may hold letters, digits, '.', '_' and '-' and must start with a letter or digit");

/** The queue. Statuses: queued, running, succeeded, failed, cancelled (`lost` is per attempt: see `attemptHistory`). */
export const jobRouter = router({
  /** `spec` is validated against JobSpecSchema in the service so errors name the field */
  submit: authedProcedure
    .input(
      z.object({
        projectId: z.string().min(1),
        spec: z.unknown(),
        queue: QueueNameSchema.optional(),
        priority: z.number().int().min(-1000, "priority must be ≥ -1000").max(1000, "priority must be ≤ 1000").optional(),
        maxAttempts: z.number().int().min(1, "maxAttempts must be ≥ 1").max(100, "maxAttempts must be ≤ 100").optional(),
        group: z.string().min(1).max(200).optional(),
      }),
    )
    .mutation(({ ctx, input }) => submitJob(ctx.services, { ...input, submittedBy: ctx.principal.userId })),
  /**
   * the job with `runner`, `project` and `attemptHistory` ({attempt, runnerName, status, exitCode, error, startedAt, endedAt});
   * a pipeline's `stages` [{name, index, jobId, runId, kind, status, attempts, error, progress}] (null for other kinds)
   */
  get: authedProcedure.input(z.object({ jobId: IdSchema })).query(({ ctx, input }) => getJob(ctx.services, input.jobId)),
  /** the job's checkpoints stored on the server: [{step, attempt, files: [{name, bytes}], bytes, tensors, excludedFrozen}] */
  checkpoints: authedProcedure.input(z.object({ jobId: IdSchema })).query(({ ctx, input }) => ctx.services.jobs.checkpoints.list(input.jobId)),
  list: authedProcedure
    .input(
      z
        .object({
          projectId: z.string().min(1).optional(),
          status: JobStatusSchema.optional(),
          queue: z.string().optional(),
          runnerId: IdSchema.optional(),
          limit: z.number().int().min(1).max(1000).optional(),
        })
        .default({}),
    )
    .query(({ ctx, input }) => listJobs(ctx.services, ctx.principal, input)),
  cancel: authedProcedure
    .input(z.object({ jobId: IdSchema }))
    .mutation(({ ctx, input }) => cancelJob(ctx.services, { principal: ctx.principal, ip: ctx.ip }, input.jobId)),
  retry: authedProcedure.input(z.object({ jobId: IdSchema })).mutation(({ ctx, input }) => ctx.services.jobs.retry(input.jobId)),
  /** the history: queued, leased, started, checkpoint, lost, requeued, rewound, cancel-requested, succeeded/failed/cancelled */
  events: authedProcedure.input(z.object({ jobId: IdSchema })).query(({ ctx, input }) => ctx.services.jobs.events(input.jobId)),
});
