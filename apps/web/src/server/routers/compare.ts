import { AppError, IdSchema } from "@heron/core";
import { z } from "zod";

import type { Services } from "../services";
import { authedProcedure } from "../trpc";

export const CompareTableInputSchema = z
  .object({
    runIds: z.array(IdSchema).min(1, "runIds must list at least one run").max(200, "runIds lists at most 200 runs").optional(),
    group: z.string().min(1, "group must not be empty").max(200).optional(),
  })
  .refine((v) => !!v.runIds !== !!v.group, { message: "pass either runIds or group (exactly one)" });

export type CompareRow = {
  runId: string;
  name: string;
  status: string;
  /** "ce" | "kd" | "cosine" | "regressor" for distillation runs; "train" for a plain training run */
  method: string;
  model: string | null;
  /** test accuracy 0..1 (last logged), null until the first evaluation */
  accuracy: number | null;
  params: number | null;
  /** params trained, e.g. student + regressor */
  trainableParams: number | null;
};
export type CompareTable = {
  group: string | null;
  teacher: { runId: string | null; model: string | null; accuracy: number | null; params: number | null } | null;
  rows: CompareRow[];
};

type Json = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Seed 003's closing table, for any set of runs: the teacher's accuracy and size, then one
 * row per run (method, student model, accuracy, parameter counts). Values come from the
 * runs' last logged metrics (test/accuracy, distill/*), falling back to the run summary.
 */
export async function buildCompareTable(
  services: Services,
  input: z.infer<typeof CompareTableInputSchema>,
  visibleProjectIds: string[] | null = null,
): Promise<CompareTable> {
  const runs = input.group
    ? await services.prisma.run.findMany({
        where: { group: input.group, ...(visibleProjectIds ? { projectId: { in: visibleProjectIds } } : {}) },
        orderBy: { createdAt: "asc" },
        take: 200,
      })
    : await services.prisma.run.findMany({ where: { id: { in: input.runIds! } }, orderBy: { createdAt: "asc" } });
  if (!runs.length) throw new AppError("NOT_FOUND", input.group ? `no runs in group "${input.group}"` : "none of these runs exist");
  const summaries = await services.metrics.summaries(runs.map((r) => r.id));
  let teacher: CompareTable["teacher"] = null;
  const rows: CompareRow[] = runs.map((r) => {
    const m = summaries[r.id] ?? {};
    const s = (r.summary as Json | null) ?? {};
    const cfg = (r.config as Json | null) ?? {};
    const last = (k: string) => num(m[k]?.last) ?? num(s[k.replace(/^distill\//, "").replace("test/accuracy", "test_accuracy")]);
    const isDistill = cfg.kind === "distill";
    if (isDistill) {
      const t = (cfg.teacher as Json | undefined) ?? {};
      teacher ??= {
        runId: typeof t.runId === "string" ? t.runId : null,
        model: typeof t.model === "string" ? t.model : typeof s.teacher_model === "string" ? s.teacher_model : null,
        accuracy: null,
        params: null,
      };
      teacher.accuracy ??= last("distill/teacher_accuracy");
      teacher.params ??= last("distill/teacher_params");
    }
    const methods = Array.isArray(cfg.methods) ? (cfg.methods as string[]) : [];
    return {
      runId: r.id,
      name: r.name,
      status: r.status,
      method: isDistill ? methods.join("+") : typeof cfg.kind === "string" ? cfg.kind : "run",
      model: isDistill ? (typeof cfg.student === "string" ? cfg.student : "light-cnn") : typeof cfg.model === "string" ? cfg.model : null,
      accuracy: last("test/accuracy"),
      params: isDistill ? last("distill/student_params") : num(s.param_count),
      trainableParams: isDistill ? last("distill/trainable_params") : num(s.param_count),
    };
  });
  return { group: input.group ?? runs[0]!.group ?? null, teacher, rows };
}

/** `run.compareTable({runIds} | {group})` */
export const compareTableProcedure = authedProcedure
  .input(CompareTableInputSchema)
  .query(async ({ ctx, input }) => buildCompareTable(ctx.services, input, await ctx.services.access.visibleProjectIds(ctx.principal)));
