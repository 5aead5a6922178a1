import { z } from "zod";
import { IdSchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

/** Small read-only views the dashboard needs that no domain router gives yet. */
export const dashboardRouter = router({
  /** text samples (a table per step) of a run, newest steps last */
  textSamples: authedProcedure.input(z.object({ runId: IdSchema, key: z.string().max(512).optional(), limit: z.number().int().min(1).max(500).default(100) })).query(async ({ ctx, input }) => {
    await ctx.services.runs.get(input.runId);
    const rows = await ctx.services.prisma.textSample.findMany({
      where: { runId: input.runId, ...(input.key ? { key: input.key } : {}) },
      orderBy: [{ step: "desc" }, { key: "asc" }],
      take: input.limit,
    });
    return rows.reverse().map((r) => ({ key: r.key, step: r.step, rows: r.rows as unknown, ts: r.ts }));
  }),
});
