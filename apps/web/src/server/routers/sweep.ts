import { IdSchema } from "@heron/core";
import { z } from "zod";

import { authedProcedure, router } from "../trpc";

const SweepRef = z.object({ sweepId: IdSchema });

/** Hyperparameter sweeps (docs/sweeps.md). `sweep` is validated against SweepSpecSchema in the service so errors name the field. */
export const sweepRouter = router({
  create: authedProcedure
    .input(z.object({ projectId: z.string().min(1), sweep: z.unknown() }))
    .mutation(({ ctx, input }) => ctx.services.sweeps.create(input.projectId, input.sweep, ctx.principal.userId)),
  /** `{status, trials: [{jobId, runId, params, status, metric, …}], best: {runId, params, metric} | null, importance}` */
  get: authedProcedure.input(SweepRef).query(({ ctx, input }) => ctx.services.sweeps.get(input.sweepId)),
  list: authedProcedure.input(z.object({ projectId: z.string().min(1) })).query(({ ctx, input }) => ctx.services.sweeps.list(input.projectId)),
  pause: authedProcedure.input(SweepRef).mutation(({ ctx, input }) => ctx.services.sweeps.pause(input.sweepId)),
  resume: authedProcedure.input(SweepRef).mutation(({ ctx, input }) => ctx.services.sweeps.resume(input.sweepId)),
  cancel: authedProcedure.input(SweepRef).mutation(({ ctx, input }) => ctx.services.sweeps.cancel(input.sweepId)),
});
