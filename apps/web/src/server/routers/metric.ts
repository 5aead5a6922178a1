import { AppError, CompareQuerySchema, IdSchema, SeriesQuerySchema } from "@heron/core";
import { z } from "zod";

import { authedProcedure, router } from "../trpc";

/**
 * Metric reads (the store: packages/db/src/metrics). `series` is exact up to maxPoints points
 * and min/max/last buckets beyond (see Series in @heron/core); `compare` queries every run
 * over one shared step range so their buckets share boundaries and overlay exactly.
 */
export const metricRouter = router({
  keys: authedProcedure.input(z.object({ runId: IdSchema })).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return ctx.services.metrics.keys(input.runId);
  }),
  series: authedProcedure.input(SeriesQuerySchema).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return ctx.services.metrics.series(input);
  }),
  /** answers `{ runId, series }` per requested run, in request order */
  compare: authedProcedure.input(CompareQuerySchema).query(async ({ ctx, input }) => {
    const found = await ctx.services.prisma.run.findMany({ where: { id: { in: input.runIds } }, select: { id: true } });
    const missing = input.runIds.filter((id) => !found.some((r) => r.id === id));
    if (missing.length) throw new AppError("NOT_FOUND", `run "${missing[0]}" not found`);
    const series = await ctx.services.metrics.compare(input);
    return series.map((s) => ({ runId: s.runId!, series: s }));
  }),
  /** per run, per key: count, first/last step, finite min/max/last — for the runs table */
  summaries: authedProcedure.input(z.object({ runIds: z.array(IdSchema).max(1000) })).query(({ ctx, input }) => ctx.services.metrics.summaries(input.runIds)),
});
