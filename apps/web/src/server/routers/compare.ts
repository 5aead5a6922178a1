import { IdSchema } from "@heron/core";
import { z } from "zod";

import { buildCompareTable } from "../services/compare-table";
import { authedProcedure } from "../trpc";

export const CompareTableInputSchema = z
  .object({
    runIds: z.array(IdSchema).min(1, "runIds must list at least one run").max(200, "runIds lists at most 200 runs").optional(),
    group: z.string().min(1, "group must not be empty").max(200).optional(),
  })
  .refine((v) => !!v.runIds !== !!v.group, { message: "pass either runIds or group (exactly one)" });

/** `run.compareTable({runIds} | {group})` */
export const compareTableProcedure = authedProcedure
  .input(CompareTableInputSchema)
  .query(async ({ ctx, input }) => buildCompareTable(ctx.services, input, await ctx.services.access.visibleProjectIds(ctx.principal)));
