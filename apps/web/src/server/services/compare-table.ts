import { AppError } from "@heron/core";

import type { Services } from "./index";

/** which runs to compare: listed ones, or every visible run of a group */
export type CompareTableInput = { runIds?: string[]; group?: string };

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
 * A distillation comparison, for any set of runs: the teacher's accuracy and size, then one
 * row per run (method, student model, accuracy, parameter counts). Values come from the
 * runs' last logged metrics (test/accuracy, distill/*), falling back to the run summary.
 */
export async function buildCompareTable(services: Services, input: CompareTableInput, visibleProjectIds: string[] | null = null): Promise<CompareTable> {
  const runs = input.group
    ? await services.prisma.run.findMany({
        where: { group: input.group, deletedAt: null, ...(visibleProjectIds ? { projectId: { in: visibleProjectIds } } : {}) },
        orderBy: { createdAt: "asc" },
        take: 200,
      })
    : await services.prisma.run.findMany({ where: { id: { in: input.runIds ?? [] } }, orderBy: { createdAt: "asc" } });
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
