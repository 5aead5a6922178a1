import { AppError, GroupBySchema, IdSchema, MetricKeySchema } from "@heron/core";
import type { PrismaClient } from "@heron/db";
import { z } from "zod";

import { RunListViewSchema } from "./run-management";

const short = z.string().max(500);

/** What a saved view holds; every field optional so a view may fix only some of them. */
export const ViewStateSchema = z.object({
  filters: z.object({ text: short, status: short, tag: short, configKey: short, configValue: short }).partial().optional(),
  sort: z.object({ col: z.string().min(1).max(600), dir: z.union([z.literal(1), z.literal(-1)]) }).optional(),
  /** column ids in order; null: the table's default choice */
  columns: z.array(z.string().min(1).max(600)).max(500).nullable().optional(),
  /** which runs: active, all, archived, trash */
  view: RunListViewSchema.optional(),
  /** chart settings (the project charts page and the runs' charts): smoothing, x axis, panels, hidden keys */
  chart: z
    .object({
      ema: z.number().min(0).max(1),
      avg: z.number().int().min(0).max(10_000),
      x: z.enum(["step", "relative", "wall"]),
      log: z.boolean(),
      /** a metric to draw against instead of the step (e.g. train/epoch) */
      xKey: MetricKeySchema.nullable(),
      /** panels in order, each its metric keys; empty: one panel per key */
      panels: z.array(z.array(MetricKeySchema).min(1).max(20)).max(100),
      /** keys left out of the one-panel-per-key layout */
      hidden: z.array(MetricKeySchema).max(1000),
      /** the parallel-coordinates metric */
      pc: MetricKeySchema.nullable(),
    })
    .partial()
    .optional(),
  /** group runs (table folding and mean ± band charts) by tag, job group or a config key */
  grouping: z
    .object({ by: GroupBySchema.nullable(), band: z.enum(["minmax", "std"]) })
    .partial()
    .optional(),
  pinned: z.array(IdSchema).max(1000).optional(),
  /** the selected runs (compared and charted) */
  selected: z.array(IdSchema).max(1000).optional(),
});
export type ViewState = z.infer<typeof ViewStateSchema>;

const NameSchema = z.string().trim().min(1, "a view needs a name").max(100);
export const ViewCreateSchema = z.object({ projectId: z.string().min(1), name: NameSchema, state: ViewStateSchema, isDefault: z.boolean().optional() });
export const ViewUpdateSchema = z.object({
  projectId: z.string().min(1),
  viewId: IdSchema,
  name: NameSchema.optional(),
  state: ViewStateSchema.optional(),
  isDefault: z.boolean().optional(),
});
export const ViewRefSchema = z.object({ projectId: z.string().min(1), viewId: IdSchema });

/** Saved views per project (`projectId`: the resolved id); one may be the project's default. */
export function createViewService(prisma: PrismaClient) {
  const shape = (v: { id: string; name: string; state: unknown; isDefault: boolean; createdBy: string | null; updatedAt: Date }) => ({
    id: v.id,
    name: v.name,
    state: v.state as ViewState,
    isDefault: v.isDefault,
    createdBy: v.createdBy,
    updatedAt: v.updatedAt,
  });
  async function own(projectId: string, viewId: string) {
    const v = await prisma.savedView.findFirst({ where: { id: viewId, projectId } });
    if (!v) throw new AppError("NOT_FOUND", `view "${viewId}" not found in this project`);
    return v;
  }
  async function nameFree(projectId: string, name: string, except?: string) {
    const clash = await prisma.savedView.findFirst({ where: { projectId, name, ...(except ? { id: { not: except } } : {}) } });
    if (clash) throw new AppError("CONFLICT", `a view named "${name}" already exists in this project`);
  }
  return {
    async list(projectId: string) {
      return (await prisma.savedView.findMany({ where: { projectId }, orderBy: { name: "asc" } })).map(shape);
    },
    async create(projectId: string, input: z.infer<typeof ViewCreateSchema>, createdBy: string | null) {
      await nameFree(projectId, input.name);
      const v = await prisma.$transaction(async (tx) => {
        if (input.isDefault) await tx.savedView.updateMany({ where: { projectId }, data: { isDefault: false } });
        return tx.savedView.create({ data: { projectId, name: input.name, state: input.state, isDefault: !!input.isDefault, createdBy } });
      });
      return shape(v);
    },
    /** `isDefault: true` makes it the project's only default view */
    async update(projectId: string, input: z.infer<typeof ViewUpdateSchema>) {
      await own(projectId, input.viewId);
      if (input.name) await nameFree(projectId, input.name, input.viewId);
      const v = await prisma.$transaction(async (tx) => {
        if (input.isDefault) await tx.savedView.updateMany({ where: { projectId, id: { not: input.viewId } }, data: { isDefault: false } });
        return tx.savedView.update({
          where: { id: input.viewId },
          data: {
            ...(input.name ? { name: input.name } : {}),
            ...(input.state ? { state: input.state } : {}),
            ...(input.isDefault !== undefined ? { isDefault: input.isDefault } : {}),
          },
        });
      });
      return shape(v);
    },
    async delete(projectId: string, viewId: string) {
      await own(projectId, viewId);
      await prisma.savedView.delete({ where: { id: viewId } });
      return { ok: true as const };
    },
  };
}
export type ViewService = ReturnType<typeof createViewService>;
