import { z } from "zod";

import { ViewCreateSchema, ViewRefSchema, ViewUpdateSchema } from "../services/views";
import { authedProcedure, router } from "../trpc";

/** Saved views of a project's runs table (services/views.ts). `projectId`: id or name. */
export const viewRouter = router({
  /** by name; `isDefault` marks the view the project page opens with */
  list: authedProcedure.input(z.object({ projectId: z.string().min(1) })).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.views.list(project.id);
  }),
  create: authedProcedure.input(ViewCreateSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.views.create(project.id, input, ctx.principal.userId);
  }),
  update: authedProcedure.input(ViewUpdateSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.views.update(project.id, input);
  }),
  delete: authedProcedure.input(ViewRefSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.views.delete(project.id, input.viewId);
  }),
});
