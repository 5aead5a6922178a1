import { z } from "zod";

import { AlertDeliveriesSchema, AlertRuleCreateSchema, AlertRuleRefSchema, AlertRuleUpdateSchema } from "../services/alerts/schemas";
import { authedProcedure, router } from "../trpc";

const ProjectRef = z.object({ projectId: z.string().min(1) });

/** Alert rules of a project and their delivery log (services/alerts). `projectId`: id or name. */
export const alertRouter = router({
  list: authedProcedure.input(ProjectRef).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.alerts.listRules(project.id);
  }),
  create: authedProcedure.input(AlertRuleCreateSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.alerts.createRule(project.id, input, ctx.principal.userId);
  }),
  /** omitted fields stay as they are */
  update: authedProcedure.input(AlertRuleUpdateSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.alerts.updateRule(project.id, input);
  }),
  delete: authedProcedure.input(AlertRuleRefSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.alerts.deleteRule(project.id, input.ruleId);
  }),
  /** the delivery log, newest first: status (pending, sending, delivered, failed), attempts, last HTTP status or error */
  deliveries: authedProcedure.input(AlertDeliveriesSchema).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.alerts.deliveries(project.id, input.limit);
  }),
});
