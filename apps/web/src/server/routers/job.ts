import { z } from "zod";
import { IdSchema, JobStatusSchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

export const jobRouter = router({
  /** `spec` is validated against JobSpecSchema in the service so errors name the field */
  submit: authedProcedure
    .input(
      z.object({
        projectId: z.string().min(1),
        spec: z.unknown(),
        queue: z.string().min(1).max(100).optional(),
        priority: z.number().int().min(-1000).max(1000).optional(),
        maxAttempts: z.number().int().min(1).max(100).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const job = await ctx.services.jobs.submit(input.projectId, input.spec, input);
      return { jobId: job.id };
    }),
  get: authedProcedure.input(z.object({ jobId: IdSchema })).query(({ ctx, input }) => ctx.services.jobs.get(input.jobId)),
  list: authedProcedure
    .input(z.object({ projectId: z.string().min(1).optional(), status: JobStatusSchema.optional(), queue: z.string().optional(), limit: z.number().int().min(1).max(1000).optional() }).default({}))
    .query(async ({ ctx, input }) => {
      const projectId = input.projectId ? (await ctx.services.projects.get(input.projectId)).id : undefined;
      return ctx.services.jobs.list({ ...input, projectId });
    }),
  cancel: authedProcedure.input(z.object({ jobId: IdSchema })).mutation(({ ctx, input }) => ctx.services.jobs.cancel(input.jobId)),
  retry: authedProcedure.input(z.object({ jobId: IdSchema })).mutation(({ ctx, input }) => ctx.services.jobs.retry(input.jobId)),
  events: authedProcedure.input(z.object({ jobId: IdSchema })).query(({ ctx, input }) => ctx.services.jobs.events(input.jobId)),
});
