import { z } from "zod";
import { ProjectNameSchema } from "@heron/core";
import { authedProcedure, router } from "../trpc";

export const projectRouter = router({
  list: authedProcedure.query(({ ctx }) => ctx.services.projects.list()),
  get: authedProcedure.input(z.object({ project: z.string().min(1) })).query(({ ctx, input }) => ctx.services.projects.get(input.project)),
  create: authedProcedure
    .input(z.object({ name: ProjectNameSchema, description: z.string().max(2000).optional() }))
    .mutation(({ ctx, input }) => ctx.services.projects.create(input.name, input.description)),
});
