import { z } from "zod";
import { IdSchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

export const runnerRouter = router({
  /** runners with host info, `slots`, `busySlots`, `runningJobIds`, `status` (online|offline|draining), `lastHeartbeatAt` */
  list: authedProcedure.query(({ ctx }) => ctx.services.runners.list()),
  get: authedProcedure.input(z.object({ runnerId: IdSchema })).query(({ ctx, input }) => ctx.services.runners.get(input.runnerId)),
  /** the token is returned once; only its hash is stored */
  createToken: authedProcedure.input(z.object({ name: z.string().min(1, "name must not be empty").max(100, "name is longer than 100 characters") })).mutation(({ ctx, input }) => ctx.services.runners.createToken(input.name)),
  /** the runner's connections are cut and its token refused from now on; its leases expire and requeue */
  revoke: authedProcedure.input(z.object({ runnerId: IdSchema })).mutation(({ ctx, input }) => ctx.services.runners.revoke(input.runnerId)),
});
