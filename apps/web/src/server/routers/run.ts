import { IdSchema, MetricKeySchema, StepSchema } from "@heron/core";
import { z } from "zod";

import { forkRun, RunForkInputSchema } from "../services/run-fork";
import { runGroups, RunGroupsSchema } from "../services/run-groups";
import {
  emptyTrash,
  moveRuns,
  restoreRuns,
  RunIdsSchema,
  RunListViewSchema,
  RunUpdateSchema,
  setArchived,
  trashRuns,
  updateRun,
} from "../services/run-management";
import { queryRuns, runFacets, RunPageSchema, RunQueryFields } from "../services/run-query";
import { getRunDetails } from "../services/run-reads";
import { authedProcedure, router } from "../trpc";
import { compareTableProcedure } from "./compare";

export const runRouter = router({
  /** a distillation comparison: the teacher + one row per run of a group (services/compare-table.ts) */
  compareTable: compareTableProcedure,
  /**
   * newest first, at most `limit` (500); `projectId` accepts a project's id or name; `view`:
   * active (default: not archived, not trashed), all, archived, trash; `tag` and `status` filter
   * on the server, before the limit, so a project of many runs reaches its older ones. The
   * optional `search`, `config`, `sort` and `offset` are run.page's (services/run-query.ts).
   */
  list: authedProcedure
    .input(
      z.object({
        projectId: z.string().min(1),
        limit: z.number().int().min(1).max(5000).optional(),
        ...RunQueryFields,
      }),
    )
    .query(async ({ ctx, input }) => {
      const project = await ctx.services.projects.get(input.projectId);
      const { projectId: _, limit, ...query } = input;
      return (await queryRuns(ctx.services, project.id, { ...query, limit: limit ?? 500 })).runs;
    }),
  /**
   * One page of the runs table, filtered, sorted and counted on the server: `{runs, total,
   * offset, limit}` (runs shaped as run.list's). `limit`: 1 … 500 (default 100); `sort.col`:
   * name, created, status, duration, group, host, config:<key>, summary:<key>,
   * metric:<key>:last|min|max; `search`: words matched in name/id/group/host/tags/config, or
   * `key=value`; `config`: [{key, op: eq|ne|gt|gte|lt|lte, value}]; `pinned`: up to 100 run ids
   * answered apart as `pinnedRows` on every page (`pinnedOutsideFilters`: those the filters
   * would hide); `inGroup: {by, value}`: one group of run.groups.
   */
  page: authedProcedure.input(RunPageSchema).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    const { projectId: _, ...query } = input;
    return queryRuns(ctx.services, project.id, query);
  }),
  /**
   * The folded table: `{by, groups: [{value, label, count}], groupCount, total}` over every run
   * the filters keep (at most 200 groups, newest first); run.page's `inGroup` opens one.
   */
  groups: authedProcedure.input(RunGroupsSchema).query(async ({ ctx, input }) => {
    const project = await ctx.services.projects.get(input.projectId);
    const { projectId: _, ...query } = input;
    return runGroups(ctx.services, project.id, query);
  }),
  /** what the runs table filters and groups on: the project's tags, config keys (with values) and metric keys */
  facets: authedProcedure
    .input(z.object({ projectId: z.string().min(1), view: RunListViewSchema.optional() }))
    .query(async ({ ctx, input }) => runFacets(ctx.services, (await ctx.services.projects.get(input.projectId)).id, input.view)),
  /** rename, set the tag list, set the notes (markdown) */
  update: authedProcedure.input(RunUpdateSchema).mutation(({ ctx, input }) => updateRun(ctx.services, input)),
  archive: authedProcedure.input(RunIdsSchema).mutation(({ ctx, input }) => setArchived(ctx.services, input.runIds, true)),
  unarchive: authedProcedure.input(RunIdsSchema).mutation(({ ctx, input }) => setArchived(ctx.services, input.runIds, false)),
  /** to the project's trash (restorable until emptyTrash) */
  delete: authedProcedure.input(RunIdsSchema).mutation(({ ctx, input }) => trashRuns(ctx.services, ctx.principal, input.runIds)),
  restore: authedProcedure.input(RunIdsSchema).mutation(({ ctx, input }) => restoreRuns(ctx.services, input.runIds)),
  /** deletes the project's trashed runs and their metrics for good */
  emptyTrash: authedProcedure
    .input(z.object({ projectId: z.string().min(1) }))
    .mutation(({ ctx, input }) => emptyTrash(ctx.services, ctx.principal, input.projectId)),
  /** `projectId`: the destination (id or name) */
  move: authedProcedure
    .input(RunIdsSchema.extend({ projectId: z.string().min(1) }))
    .mutation(({ ctx, input }) => moveRuns(ctx.services, ctx.principal, input.runIds, input.projectId)),
  get: authedProcedure.input(z.object({ runId: IdSchema })).query(({ ctx, input }) => getRunDetails(ctx.services, input.runId)),
  rewind: authedProcedure
    .input(z.object({ runId: IdSchema, step: StepSchema }))
    .mutation(({ ctx, input }) => ctx.services.runs.rewind(input.runId, input.step)),
  /**
   * a new job from the run's newest stored checkpoint at or before `step`, with the parent's spec
   * plus `overrides`; answers `{jobId, runId, step}` (`step`: the checkpoint's step it starts from)
   */
  fork: authedProcedure.input(RunForkInputSchema).mutation(({ ctx, input }) => forkRun(ctx.services, ctx.principal, input)),
  logs: authedProcedure
    .input(
      z.object({
        runId: IdSchema,
        afterId: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(10_000).optional(),
        search: z.string().max(200).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.services.runs.get(input.runId);
      return ctx.services.runs.logs(input.runId, input);
    }),
  /** text samples (logText) per key and step */
  texts: authedProcedure
    .input(
      z.object({ runId: IdSchema, key: MetricKeySchema.optional(), afterStep: StepSchema.optional(), limit: z.number().int().min(1).max(5000).optional() }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.services.runs.get(input.runId);
      return ctx.services.runs.texts(input.runId, input);
    }),
  /** images (logImage) without their bytes: id, key, step, caption, width, height */
  media: authedProcedure
    .input(z.object({ runId: IdSchema, key: MetricKeySchema.optional(), limit: z.number().int().min(1).max(5000).optional() }))
    .query(async ({ ctx, input }) => {
      await ctx.services.runs.get(input.runId);
      return ctx.services.runs.media(input.runId, input);
    }),
  /** one image's PNG as base64 (for <img src="data:image/png;base64,…">) */
  mediaData: authedProcedure
    .input(z.object({ runId: IdSchema, id: z.number().int().min(1) }))
    .query(({ ctx, input }) => ctx.services.runs.mediaData(input.runId, input.id)),
});
