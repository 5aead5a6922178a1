import { z } from "zod";

import { authedProcedure, router } from "../trpc";

export const auditRouter = router({
  /** newest first */
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(1000).optional() }).default({}))
    .query(({ ctx, input }) => ctx.services.audit.list(input.limit ?? 100)),
});
