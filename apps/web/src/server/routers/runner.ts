import { IdSchema } from "@heron/core";
import { z } from "zod";

import { authedProcedure, router } from "../trpc";
import { QueueNameSchema } from "./job";

export const runnerRouter = router({
  /** runners with host info, `slots`, `busySlots`, `runningJobIds`, `status` (online|offline|draining), `lastHeartbeatAt` */
  list: authedProcedure.query(({ ctx }) => ctx.services.runners.list()),
  get: authedProcedure.input(z.object({ runnerId: IdSchema })).query(({ ctx, input }) => ctx.services.runners.get(input.runnerId)),
  /** the token is returned once; only its hash is stored */
  /** `queues` (default ["default"]) are fixed here: the runner may serve only these, whatever it asks for at hello */
  createToken: authedProcedure
    .input(
      z.object({
        name: z.string().min(1, "name must not be empty").max(100, "name is longer than 100 characters"),
        queues: z.array(QueueNameSchema).min(1, "queues must list at least one queue").max(50).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const created = await ctx.services.runners.createToken(input.name, input.queues ?? ["default"]);
      await ctx.services.audit.record(ctx.principal, {
        action: "runner.token_created",
        target: `runner:${created.runnerId}`,
        detail: { name: input.name, queues: input.queues ?? ["default"] },
        ip: ctx.ip,
      });
      return created;
    }),
  /** the runner's connections are cut and its token refused from now on; its leases expire and requeue */
  revoke: authedProcedure.input(z.object({ runnerId: IdSchema })).mutation(async ({ ctx, input }) => {
    await ctx.services.runners.revoke(input.runnerId);
    ctx.services.notifier.revokeCredential(`runner:${input.runnerId}`);
    await ctx.services.audit.record(ctx.principal, { action: "runner.token_revoked", target: `runner:${input.runnerId}`, ip: ctx.ip });
  }),
});
