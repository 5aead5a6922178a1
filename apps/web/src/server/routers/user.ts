import { z } from "zod";

import { authedProcedure, router } from "../trpc";

const PasswordSchema = z.string().min(8, "password must be at least 8 characters").max(200, "password is longer than 200 characters");
const RoleSchema = z.enum(["admin", "user"]);

/** Users of this instance. `user.create` is how an admin invites someone (or `npx heron user create`). */
export const userRouter = router({
  /** the caller: a user, or an instance key (bootstrap, local) with `user: null` */
  me: authedProcedure.query(async ({ ctx }) => {
    const p = ctx.principal;
    return {
      user: p.userId ? await ctx.services.users.get(p.userId) : null,
      label: p.label,
      admin: p.admin,
      scope: p.scope,
      projectIds: p.projectIds,
      viaSession: !!p.sessionId,
    };
  }),
  list: authedProcedure.query(({ ctx }) => ctx.services.users.list()),
  create: authedProcedure
    .input(
      z.object({
        email: z.string().email("email is not a valid address").max(320),
        password: PasswordSchema.optional(),
        name: z.string().min(1).max(200).optional(),
        role: RoleSchema.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.services.users.create(input);
      await ctx.services.audit.record(ctx.principal, {
        action: "user.created",
        target: `user:${user.id}`,
        detail: { email: user.email, role: user.role },
        ip: ctx.ip,
      });
      return user;
    }),
  setRole: authedProcedure.input(z.object({ userId: z.string().min(1).max(100), role: RoleSchema })).mutation(async ({ ctx, input }) => {
    const before = await ctx.services.users.get(input.userId);
    const user = await ctx.services.users.setRole(input.userId, input.role);
    await ctx.services.audit.record(ctx.principal, {
      action: "user.role_changed",
      target: `user:${user.id}`,
      detail: { email: user.email, from: before.role, to: user.role },
      ip: ctx.ip,
    });
    return user;
  }),
});
