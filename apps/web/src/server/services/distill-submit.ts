import {
  AppError,
  DATASET_SHAPES,
  denseLayersOf,
  type DistillSpec,
  DistillSpecSchema,
  featureAlignmentError,
  type FinetuneSpec,
  FinetuneSpecSchema,
  formatIssues,
  selectLoraTargets,
  TEXT_VOCAB_SIZE,
  type TextModelConfig,
  TextModelConfigSchema,
} from "@heron/core";

import type { Services } from "./index";
import { createCheckpointStore } from "./job-checkpoints";

export type SubmitInput = {
  projectId: string;
  spec: unknown;
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  group?: string;
  submittedBy?: string | null;
};
export type SubmitResult = { jobId: string; jobIds: string[]; group: string | null };

type Json = Record<string, unknown>;
/** job kinds that always leave a checkpoint behind when they succeed */
const CHECKPOINTING_KINDS = new Set(["train", "distill", "finetune"]);

/**
 * Submit-time checks and fan-out for `distill` and `finetune` specs (null for other kinds):
 * the teacher/base run must exist and come from a succeeded job that checkpoints, the
 * distillation feature shapes must align, LoRA targets must match layers with r ≤ width.
 * A distill spec listing several methods becomes one job (and run) per method under one
 * group, so run.compareTable lays them side by side. Each job's spec carries the resolved `jobId` of the
 * teacher/base so the runner can find its checkpoint.
 */
export async function submitDistillOrFinetune(services: Services, input: SubmitInput): Promise<SubmitResult | null> {
  const kind = (input.spec as { kind?: unknown } | null)?.kind;
  if (kind === "distill") return submitDistill(services, input);
  if (kind === "finetune") return submitFinetune(services, input);
  return null;
}

async function submitDistill(services: Services, input: SubmitInput): Promise<SubmitResult> {
  const parsed = DistillSpecSchema.safeParse(input.spec);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
  const spec: DistillSpec = parsed.data;
  await services.projects.get(input.projectId);
  let teacher: DistillSpec["teacher"] = spec.teacher;
  if ("runId" in spec.teacher) {
    const src = await resolveSourceRun(services, spec.teacher.runId, "teacher");
    const tModel = modelOfSpec(src.spec);
    const shape = DATASET_SHAPES[spec.dataset]!;
    const tShape = DATASET_SHAPES[String(src.spec.dataset)];
    if (tShape && tShape.join() !== shape.join())
      throw new AppError(
        "BAD_REQUEST",
        `teacher: run ${src.runId} was trained on ${String(src.spec.dataset)} (${tShape.join("×")}), which cannot feed ${spec.dataset} (${shape.join("×")})`,
      );
    if (tModel)
      for (const m of spec.methods) {
        const why = featureAlignmentError(m, tModel, spec.student, shape);
        if (why) throw new AppError("BAD_REQUEST", `methods: ${why}`);
      }
    teacher = { runId: src.runId, jobId: src.jobId };
  }
  const group = input.group ?? `distill-${spec.dataset}-${Date.now().toString(36)}`;
  const jobIds: string[] = [];
  for (const method of spec.methods) {
    const job = await services.jobs.submit(input.projectId, { ...spec, teacher, methods: [method] }, { ...input, group });
    jobIds.push(job.id);
  }
  return { jobId: jobIds[0]!, jobIds, group };
}

async function submitFinetune(services: Services, input: SubmitInput): Promise<SubmitResult> {
  const parsed = FinetuneSpecSchema.safeParse(input.spec);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
  const spec: FinetuneSpec = parsed.data;
  await services.projects.get(input.projectId);
  let base: FinetuneSpec["base"] = spec.base;
  let baseModel: { image: string } | { text: TextModelConfig } | null = null;
  if ("runId" in spec.base) {
    const src = await resolveSourceRun(services, spec.base.runId, "base");
    base = { runId: src.runId, jobId: src.jobId };
    const isText = src.spec.kind === "finetune" && src.spec.task === "text";
    if (isText !== (spec.task === "text"))
      throw new AppError(
        "BAD_REQUEST",
        `base: run ${src.runId} holds ${isText ? "the text model" : "an image model"}, not what a ${spec.task} fine-tune needs`,
      );
    if (isText) {
      const cfg = await textConfigOf(services, src.spec);
      if (cfg) baseModel = { text: cfg };
    } else {
      const m = modelOfSpec(src.spec);
      if (m) baseModel = { image: m };
    }
  } else if (spec.task === "text") {
    const cfg = TextModelConfigSchema.safeParse((spec.base.pretrain as Json | null)?.model ?? {});
    if (cfg.success) baseModel = { text: cfg.data };
  } else {
    baseModel = { image: String((spec.base.pretrain as Json).model) };
  }
  if (spec.lora && baseModel) {
    const layers =
      "text" in baseModel
        ? denseLayersOf({ text: baseModel.text, vocab: TEXT_VOCAB_SIZE })
        : denseLayersOf({ image: baseModel.image, input: DATASET_SHAPES[spec.dataset ?? "mnist"] ?? [28, 28, 1] });
    try {
      selectLoraTargets(layers, spec.lora);
    } catch (e) {
      throw new AppError("BAD_REQUEST", e instanceof Error ? e.message : String(e));
    }
  }
  const job = await services.jobs.submit(input.projectId, { ...spec, base }, input);
  return { jobId: job.id, jobIds: [job.id], group: input.group ?? null };
}

/** The run a teacher/base checkpoint comes from, with the job (and spec) that produced it. */
export async function resolveSourceRun(services: Services, runId: string, what: "teacher" | "base") {
  const run = await services.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" not found`);
  if (!run.jobId) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" was logged by a script, not a Heron job, so it has no checkpoint to start from`);
  const job = await services.prisma.job.findUnique({ where: { id: run.jobId } });
  if (!job) throw new AppError("BAD_REQUEST", `${what}: the job of run "${runId}" no longer exists`);
  if (job.status !== "succeeded")
    throw new AppError("BAD_REQUEST", `${what}: run "${runId}" is not finished (its job ${job.id} is ${job.status}); wait for it to succeed`);
  if (!CHECKPOINTING_KINDS.has(job.kind)) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" comes from a ${job.kind} job, which writes no checkpoint`);
  // runners fetch it from the server (any host can run the new job), so it must be stored there
  if (!(await createCheckpointStore(services.prisma).latest(job.id)))
    throw new AppError("BAD_REQUEST", `${what}: run "${runId}" (job ${job.id}) has no checkpoint stored on the server, so no runner can start from it`);
  return { runId, jobId: job.id, spec: job.spec as Json };
}

/** the image model a source job's checkpoint holds */
function modelOfSpec(spec: Json): string | null {
  if (spec.kind === "train") return String(spec.model);
  if (spec.kind === "distill") return typeof spec.student === "string" ? spec.student : "light-cnn";
  if (spec.kind === "finetune" && spec.task === "image") {
    const base = spec.base as Json;
    return base && "pretrain" in base ? String((base.pretrain as Json).model) : null;
  }
  return null;
}

/** the text model config of a text fine-tune run, following base runs back to the pre-training */
async function textConfigOf(services: Services, spec: Json, depth = 0): Promise<TextModelConfig | null> {
  const base = spec.base as Json | undefined;
  if (!base || depth > 10) return null;
  if ("pretrain" in base) {
    const r = TextModelConfigSchema.safeParse((base.pretrain as Json | null)?.model ?? {});
    return r.success ? r.data : null;
  }
  const run = await services.prisma.run.findUnique({ where: { id: String(base.runId) } });
  const job = run?.jobId ? await services.prisma.job.findUnique({ where: { id: run.jobId } }) : null;
  return job ? textConfigOf(services, job.spec as Json, depth + 1) : null;
}
