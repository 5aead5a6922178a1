import { CompareQuerySchema, IdSchema, SeriesQuerySchema } from "@heron/core";
import { z } from "zod";

import { groupedSeries, GroupedSeriesQuerySchema } from "../services/grouped-series";
import { forkAwareKeys, forkAwareSeries } from "../services/run-fork-series";
import { compareRunSeries } from "../services/run-reads";
import { authedProcedure, router } from "../trpc";

/**
 * Metric reads (the store: packages/db/src/metrics). `series` is exact up to maxPoints points
 * and min/max/last buckets beyond (see Series in @heron/core); `compare` queries every run
 * over one shared step range so their buckets share boundaries and overlay exactly.
 */
export const metricRouter = router({
  keys: authedProcedure.input(z.object({ runId: IdSchema })).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return forkAwareKeys(ctx.services, input.runId);
  }),
  /** a forked run's series holds its parent's points up to the fork step, then its own (services/run-fork-series.ts) */
  series: authedProcedure.input(SeriesQuerySchema).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    return forkAwareSeries(ctx.services, input);
  }),
  /** answers `{ runId, series }` per requested run, in request order */
  compare: authedProcedure.input(CompareQuerySchema).query(({ ctx, input }) => compareRunSeries(ctx.services, input)),
  /**
   * one key over a project's runs folded into groups (by tag, job group or a config value):
   * per group, mean / min / max / std on a shared step grid read from the runs' rollups
   */
  groupedSeries: authedProcedure.input(GroupedSeriesQuerySchema).query(({ ctx, input }) => groupedSeries(ctx.services, input)),
  /** per run, per key: count, first/last step, finite min/max/last — for the runs table */
  summaries: authedProcedure.input(z.object({ runIds: z.array(IdSchema).max(1000) })).query(({ ctx, input }) => ctx.services.metrics.summaries(input.runIds)),
});
