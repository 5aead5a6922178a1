import { ProjectNameSchema } from "@heron/core";
import { z } from "zod";

import { PROJECT_ROLES } from "../auth/principal";
import {
  addProjectMember,
  createProject,
  getProjectForCaller,
  listProjectMembers,
  listVisibleProjects,
  removeProjectMember,
} from "../services/project-members";
import { authedProcedure, router } from "../trpc";

const MemberRefSchema = z
  .object({
    projectId: z.string().min(1),
    userId: z.string().min(1).max(100).optional(),
    email: z.string().email("email is not a valid address").max(320).optional(),
  })
  .refine((v) => !!v.userId !== !!v.email, { message: "pass either userId or email (exactly one)" });

export const projectRouter = router({
  /** the projects the caller has a role in (admins: all) */
  list: authedProcedure.query(({ ctx }) => listVisibleProjects(ctx.services, ctx.principal)),
  /** `myRole`: the caller's role here ("maintainer" for admins), so pages can hide what it cannot do */
  get: authedProcedure
    .input(z.object({ project: z.string().min(1) }))
    .query(({ ctx, input }) => getProjectForCaller(ctx.services, ctx.principal, input.project)),
  /** the creator becomes the project's maintainer */
  create: authedProcedure
    .input(z.object({ name: ProjectNameSchema, description: z.string().max(2000).optional() }))
    .mutation(({ ctx, input }) => createProject(ctx.services, ctx.principal, input.name, input.description)),
  members: authedProcedure.input(z.object({ projectId: z.string().min(1) })).query(({ ctx, input }) => listProjectMembers(ctx.services, input.projectId)),
  addMember: authedProcedure
    .input(MemberRefSchema.and(z.object({ role: z.enum(PROJECT_ROLES) })))
    .mutation(({ ctx, input }) => addProjectMember(ctx.services, { principal: ctx.principal, ip: ctx.ip }, input)),
  removeMember: authedProcedure
    .input(MemberRefSchema)
    .mutation(({ ctx, input }) => removeProjectMember(ctx.services, { principal: ctx.principal, ip: ctx.ip }, input)),
});
