import { z } from "zod";
import { IdSchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

export const runnerRouter = router({
  list: authedProcedure.query(({ ctx }) => ctx.services.runners.list()),
  /** the token is returned once; only its hash is stored */
  createToken: authedProcedure.input(z.object({ name: z.string().min(1).max(100) })).mutation(({ ctx, input }) => ctx.services.runners.createToken(input.name)),
  revoke: authedProcedure.input(z.object({ runnerId: IdSchema })).mutation(({ ctx, input }) => ctx.services.runners.revoke(input.runnerId)),
});
