import { AppError } from "@heron/core";
import { z } from "zod";

import { SCOPES, type UserPrincipal } from "../auth/principal";
import { authedProcedure, router } from "../trpc";

/** Another user's keys, or instance keys, are an admin's business. */
function assertOwnerOrAdmin(p: UserPrincipal, ownerId: string | null) {
  if (ownerId !== p.userId && !p.admin) throw new AppError("FORBIDDEN", 'managing another user\'s API keys needs the instance role "admin"');
}

/** API keys: belong to a user, scoped (read | write | admin), optionally limited to projects and a date. */
export const apiKeyRouter = router({
  /** the key is in the answer once; only its hash is stored */
  create: authedProcedure
    .input(
      z.object({
        name: z.string().min(1, "name must not be empty").max(100, "name is longer than 100 characters"),
        scope: z.enum(SCOPES).optional(),
        projectIds: z.array(z.string().min(1).max(100)).min(1, "projectIds must list at least one project (or be left out)").max(100).optional(),
        expiresAt: z.coerce.date().optional(),
        userId: z.string().min(1).max(100).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const p = ctx.principal;
      const userId = input.userId ?? p.userId;
      assertOwnerOrAdmin(p, userId);
      if (userId) await ctx.services.users.get(userId);
      // a key never holds more than the key that made it: scope and projects are capped
      const scope = input.scope ?? "write";
      if (SCOPES.indexOf(scope) > SCOPES.indexOf(p.scope))
        throw new AppError("FORBIDDEN", `a key with scope "${p.scope}" cannot create a key with scope "${scope}"`);
      if (p.projectIds && (!input.projectIds || input.projectIds.some((id) => !p.projectIds!.includes(id))))
        throw new AppError("FORBIDDEN", "this key is restricted to some projects: the new key must be restricted to those too");
      const created = await ctx.services.apiKeys.create({ ...input, scope, userId });
      await ctx.services.audit.record(p, {
        action: "apiKey.created",
        target: `key:${created.id}`,
        detail: { name: created.name, scope, userId, projectIds: created.projectIds, expiresAt: created.expiresAt },
        ip: ctx.ip,
      });
      return created;
    }),
  /** your keys (admins: every key), without secrets */
  list: authedProcedure.query(({ ctx }) => ctx.services.apiKeys.list(ctx.principal.admin ? undefined : ctx.principal.userId)),
  /** refused at once from then on, and open sockets using it are cut */
  revoke: authedProcedure.input(z.object({ id: z.string().min(1).max(100) })).mutation(async ({ ctx, input }) => {
    const key = await ctx.services.apiKeys.get(input.id);
    assertOwnerOrAdmin(ctx.principal, key.userId);
    await ctx.services.apiKeys.revoke(input.id);
    ctx.services.notifier.revokeCredential(`key:${input.id}`);
    await ctx.services.audit.record(ctx.principal, {
      action: "apiKey.revoked",
      target: `key:${input.id}`,
      detail: { name: key.name, userId: key.userId },
      ip: ctx.ip,
    });
    return { id: input.id, revoked: true };
  }),
});
