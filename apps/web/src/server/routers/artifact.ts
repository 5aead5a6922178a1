import { AliasSchema, ArtifactNameSchema, ArtifactTypeSchema, IdSchema } from "@heron/core";
import { z } from "zod";

import { authedProcedure, router } from "../trpc";

const ProjectRefSchema = z.string().min(1).max(200);

/** Artifacts and their registry aliases (services/artifacts). `projectId`: id or name. Files go through the HTTP routes (http/artifacts.ts). */
export const artifactRouter = router({
  /** newest first, with their version counts, latest version and aliases */
  list: authedProcedure.input(z.object({ projectId: ProjectRefSchema, type: ArtifactTypeSchema.optional() })).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    return ctx.services.artifacts.list(project.id, input.type);
  }),
  /** one version (a number, an alias, or `latest` when neither): files, metadata, aliases, producer run, uses, and the other versions */
  get: authedProcedure
    .input(
      z
        .object({ projectId: ProjectRefSchema, name: ArtifactNameSchema, version: z.number().int().min(0).max(1e9).optional(), alias: AliasSchema.optional() })
        .refine((x) => x.version === undefined || x.alias === undefined, "give a version or an alias, not both"),
    )
    .query(async ({ ctx, input }) => {
      const project = await ctx.services.projects.get(input.projectId);
      return ctx.services.artifacts.get(project.id, input.name, { version: input.version, alias: input.alias });
    }),
  /** points an alias (production, staging, …) at a version; audited */
  setAlias: authedProcedure.input(z.object({ artifactVersionId: IdSchema, alias: AliasSchema })).mutation(async ({ ctx, input }) => {
    return ctx.services.artifacts.setAlias(ctx.principal, input.artifactVersionId, input.alias);
  }),
});
