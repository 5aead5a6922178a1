import { IdSchema } from "@heron/core";
import { z } from "zod";

import { createRunnerToken, revokeRunner } from "../services/runner-tokens";
import { authedProcedure, router } from "../trpc";
import { QueueNameSchema } from "./job";

export const runnerRouter = router({
  /** runners with host info, `slots`, `busySlots`, `runningJobIds`, `status` (online|offline|draining), `lastHeartbeatAt` */
  list: authedProcedure.query(({ ctx }) => ctx.services.runners.list()),
  get: authedProcedure.input(z.object({ runnerId: IdSchema })).query(({ ctx, input }) => ctx.services.runners.get(input.runnerId)),
  /** the token is returned once (only its hash is stored); `queues` default to ["default"] */
  createToken: authedProcedure
    .input(
      z.object({
        name: z.string().min(1, "name must not be empty").max(100, "name is longer than 100 characters"),
        queues: z.array(QueueNameSchema).min(1, "queues must list at least one queue").max(50).optional(),
      }),
    )
    .mutation(({ ctx, input }) => createRunnerToken(ctx.services, { principal: ctx.principal, ip: ctx.ip }, input.name, input.queues)),
  /** the runner's connections are cut and its token refused from now on; its leases expire and requeue */
  revoke: authedProcedure
    .input(z.object({ runnerId: IdSchema }))
    .mutation(({ ctx, input }) => revokeRunner(ctx.services, { principal: ctx.principal, ip: ctx.ip }, input.runnerId)),
});
