import { AppError, ProjectNameSchema } from "@heron/core";
import { z } from "zod";

import { PROJECT_ROLES } from "../auth/principal";
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
  list: authedProcedure.query(async ({ ctx }) => {
    const visible = await ctx.services.access.visibleProjectIds(ctx.principal);
    return (await ctx.services.projects.list()).filter((p) => !visible || visible.includes(p.id));
  }),
  /** `myRole`: the caller's role here ("maintainer" for admins), so pages can hide what it cannot do */
  get: authedProcedure.input(z.object({ project: z.string().min(1) })).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.project);
    const p = ctx.principal;
    const myRole = p.admin ? "maintainer" : p.userId ? await ctx.services.access.roleIn(p.userId, project.id) : null;
    return { ...project, myRole: p.scope === "read" && myRole ? "viewer" : myRole };
  }),
  /** the creator becomes the project's maintainer */
  create: authedProcedure.input(z.object({ name: ProjectNameSchema, description: z.string().max(2000).optional() })).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.create(input.name, input.description);
    if (ctx.principal.userId) await ctx.services.members.set(project.id, ctx.principal.userId, "maintainer");
    return project;
  }),
  members: authedProcedure
    .input(z.object({ projectId: z.string().min(1) }))
    .query(async ({ ctx, input }) => ctx.services.members.list((await ctx.services.projects.get(input.projectId)).id)),
  addMember: authedProcedure.input(MemberRefSchema.and(z.object({ role: z.enum(PROJECT_ROLES) }))).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    const user = input.userId ? await ctx.services.users.get(input.userId) : await ctx.services.users.findByEmail(input.email!);
    if (!user) throw new AppError("NOT_FOUND", `no user with email "${input.email}"`);
    const { previousRole } = await ctx.services.members.set(project.id, user.id, input.role);
    await ctx.services.audit.record(ctx.principal, {
      action: "project.role_changed",
      target: `project:${project.name}`,
      detail: { userId: user.id, email: user.email, from: previousRole, to: input.role },
      ip: ctx.ip,
    });
    return { projectId: project.id, userId: user.id, role: input.role };
  }),
  removeMember: authedProcedure.input(MemberRefSchema).mutation(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    const user = input.userId ? await ctx.services.users.get(input.userId) : await ctx.services.users.findByEmail(input.email!);
    if (!user) throw new AppError("NOT_FOUND", `no user with email "${input.email}"`);
    await ctx.services.members.remove(project.id, user.id);
    await ctx.services.audit.record(ctx.principal, {
      action: "project.member_removed",
      target: `project:${project.name}`,
      detail: { userId: user.id, email: user.email },
      ip: ctx.ip,
    });
    return { projectId: project.id, userId: user.id };
  }),
});
