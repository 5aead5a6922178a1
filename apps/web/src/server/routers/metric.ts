import { z } from "zod";
import { IdSchema, MetricKeySchema, SeriesQuerySchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

export const metricRouter = router({
  keys: authedProcedure.input(z.object({ runId: IdSchema })).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return ctx.services.metrics.keys(input.runId);
  }),
  series: authedProcedure.input(SeriesQuerySchema).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return ctx.services.metrics.series(input);
  }),
  compare: authedProcedure
    .input(z.object({ runIds: z.array(IdSchema).min(1).max(50), key: MetricKeySchema, maxPoints: z.number().int().min(2).max(100_000).default(1000) }))
    .query(async ({ ctx, input }) => {
      const out = [];
      for (const runId of input.runIds) {
        await ctx.services.runs.get(runId);
        out.push({ runId, series: await ctx.services.metrics.series({ runId, key: input.key, maxPoints: input.maxPoints }) });
      }
      return out;
    }),
  summaries: authedProcedure.input(z.object({ runIds: z.array(IdSchema).max(1000) })).query(({ ctx, input }) => ctx.services.metrics.summaries(input.runIds)),
});
