import { getLineage, LineageQuerySchema } from "../services/lineage";
import { authedProcedure, router } from "../trpc";

/** How runs and artifacts came to be (services/lineage.ts): `{root, nodes, edges, truncated}` */
export const lineageRouter = router({
  /** `{runId}` or `{artifactId}` (an artifact version, or an artifact: its newest version), `depth` 1–10 (default 3) */
  get: authedProcedure
    .input(LineageQuerySchema)
    .query(async ({ ctx, input }) => getLineage(ctx.services, input, await ctx.services.access.visibleProjectIds(ctx.principal))),
});
