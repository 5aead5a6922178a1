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
  const project = await services.projects.get(input.projectId);
  let teacher: DistillSpec["teacher"] = spec.teacher;
  let versionId: string | null = null;
  if ("runId" in spec.teacher || "artifact" in spec.teacher) {
    const src =
      "runId" in spec.teacher
        ? { ...(await resolveSourceRun(services, spec.teacher.runId, "teacher")), name: `run ${spec.teacher.runId}` }
        : await resolveSourceArtifact(services, project.id, spec.teacher.artifact, "teacher");
    assertTeacherFits(spec, src);
    if ("versionId" in src) versionId = src.versionId;
    teacher = "jobId" in src ? { runId: src.runId, jobId: src.jobId } : { artifact: src.ref, versionId: src.versionId };
  }
  const group = input.group ?? `distill-${spec.dataset}-${Date.now().toString(36)}`;
  const jobIds: string[] = [];
  for (const method of spec.methods) {
    const job = await services.jobs.submit(input.projectId, { ...spec, teacher, methods: [method] }, { ...input, group });
    if (versionId) await recordSourceUse(services, versionId, job.id, input.submittedBy);
    jobIds.push(job.id);
  }
  return { jobId: jobIds[0]!, jobIds, group };
}

async function submitFinetune(services: Services, input: SubmitInput): Promise<SubmitResult> {
  const parsed = FinetuneSpecSchema.safeParse(input.spec);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
  const spec: FinetuneSpec = parsed.data;
  if ("fromStage" in spec.base)
    throw new AppError(
      "BAD_REQUEST",
      'base.fromStage names an earlier stage of a pipeline (kind "pipeline"); a single job takes its base from {runId} or {artifact}',
    );
  const project = await services.projects.get(input.projectId);
  let base: FinetuneSpec["base"] = spec.base;
  let versionId: string | null = null;
  if ("runId" in spec.base || "artifact" in spec.base) {
    const src =
      "runId" in spec.base
        ? { ...(await resolveSourceRun(services, spec.base.runId, "base")), name: `run ${spec.base.runId}` }
        : await resolveSourceArtifact(services, project.id, spec.base.artifact, "base");
    if ("versionId" in src) versionId = src.versionId;
    base = "jobId" in src ? { runId: src.runId, jobId: src.jobId } : { artifact: src.ref, versionId: src.versionId };
    await assertBaseFits(services, spec, src);
  } else if (spec.lora) {
    const cfg = spec.task === "text" ? TextModelConfigSchema.safeParse((spec.base.pretrain as Json | null)?.model ?? {}) : null;
    const baseModel = cfg ? (cfg.success ? { text: cfg.data } : null) : { image: String((spec.base.pretrain as Json).model) };
    assertLoraFits(spec, baseModel);
  }
  const job = await services.jobs.submit(input.projectId, { ...spec, base }, input);
  if (versionId) await recordSourceUse(services, versionId, job.id, input.submittedBy);
  return { jobId: job.id, jobIds: [job.id], group: input.group ?? null };
}

type Source = { name: string; spec: Json | null; model: string | null; dataset: string | null };

/** a teacher run/artifact must have been trained on inputs of this job's shape, and suit every method */
export function assertTeacherFits(spec: DistillSpec, src: Source, field = "teacher") {
  const shape = DATASET_SHAPES[spec.dataset]!;
  const tShape = src.dataset ? DATASET_SHAPES[src.dataset] : undefined;
  if (tShape && tShape.join() !== shape.join())
    throw new AppError(
      "BAD_REQUEST",
      `${field}: ${src.name} was trained on ${src.dataset} (${tShape.join("×")}), which cannot feed ${spec.dataset} (${shape.join("×")})`,
    );
  if (src.model)
    for (const m of spec.methods) {
      const why = featureAlignmentError(m, src.model, spec.student, shape);
      if (why) throw new AppError("BAD_REQUEST", `${field.replace(/teacher$/, "methods")}: ${why}`);
    }
}

/** a base run/artifact must hold the model this task fine-tunes, with the layers LoRA targets */
export async function assertBaseFits(services: Services, spec: FinetuneSpec, src: Source, field = "base") {
  // an artifact logged by hand may not say what it holds: then the job itself finds out
  const isText = src.spec ? src.spec.kind === "finetune" && src.spec.task === "text" : src.model === null ? null : src.model === "char-transformer";
  if (isText !== null && isText !== (spec.task === "text"))
    throw new AppError("BAD_REQUEST", `${field}: ${src.name} holds ${isText ? "the text model" : "an image model"}, not what a ${spec.task} fine-tune needs`);
  let baseModel: { image: string } | { text: TextModelConfig } | null = null;
  if (isText) {
    const cfg = src.spec ? await textConfigOf(services, src.spec) : null;
    if (cfg) baseModel = { text: cfg };
  } else if (src.model) baseModel = { image: src.model };
  assertLoraFits(spec, baseModel, field.replace(/base$/, "lora"));
}

function assertLoraFits(spec: FinetuneSpec, baseModel: { image: string } | { text: TextModelConfig } | null, field = "lora") {
  if (!spec.lora || !baseModel) return;
  const layers =
    "text" in baseModel
      ? denseLayersOf({ text: baseModel.text, vocab: TEXT_VOCAB_SIZE })
      : denseLayersOf({ image: baseModel.image, input: DATASET_SHAPES[spec.dataset ?? "mnist"] ?? [28, 28, 1] });
  try {
    selectLoraTargets(layers, spec.lora);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new AppError("BAD_REQUEST", field === "lora" ? msg : `${field}.${msg.replace(/^lora\./, "")}`);
  }
}

/** The run a teacher/base checkpoint comes from, with the job (and spec) that produced it. */
export async function resolveSourceRun(services: Services, runId: string, what: string) {
  const run = await services.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" not found`);
  if (!run.jobId) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" was logged by a script, not a Heron job, so it has no checkpoint to start from`);
  const job = await services.prisma.job.findUnique({ where: { id: run.jobId } });
  if (!job) throw new AppError("BAD_REQUEST", `${what}: the job of run "${runId}" no longer exists`);
  if (job.status !== "succeeded")
    throw new AppError("BAD_REQUEST", `${what}: run "${runId}" is not finished (its job ${job.id} is ${job.status}); wait for it to succeed`);
  // vlm-stage jobs checkpoint too, but the mini VLM is neither an image classifier nor the text model
  if (job.kind === "vlm-stage")
    throw new AppError("BAD_REQUEST", `${what}: run "${runId}" holds the mini VLM (a vlm-stage job), which cannot be a teacher or a fine-tune base`);
  if (!CHECKPOINTING_KINDS.has(job.kind)) throw new AppError("BAD_REQUEST", `${what}: run "${runId}" comes from a ${job.kind} job, which writes no checkpoint`);
  // runners fetch it from the server (any host can run the new job), so it must be stored there
  if (!(await services.jobs.checkpointStore.latest(job.id)))
    throw new AppError("BAD_REQUEST", `${what}: run "${runId}" (job ${job.id}) has no checkpoint stored on the server, so no runner can start from it`);
  const spec = job.spec as Json;
  return { runId, jobId: job.id, spec, model: modelOfJobSpec(spec), dataset: typeof spec.dataset === "string" ? spec.dataset : null };
}

/**
 * A teacher/base given as a model artifact of the job's project, resolved to one version now
 * (an alias moved later does not change what this job starts from). Its files must be a
 * checkpoint folder; what model and dataset it holds comes from its metadata (model
 * artifacts logged for finished jobs carry them) or from the job that produced it.
 */
async function resolveSourceArtifact(services: Services, projectId: string, ref: string, what: "teacher" | "base") {
  let v;
  try {
    v = await services.artifacts.resolve(projectId, ref);
  } catch (e) {
    if (e instanceof AppError && (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")) throw new AppError("BAD_REQUEST", `${what}: ${e.message}`);
    throw e;
  }
  const name = `artifact ${ref} (${v.name}:v${v.version})`;
  if (!v.files.some((f) => f.path === "meta.json" || f.path.endsWith("/meta.json")))
    throw new AppError("BAD_REQUEST", `${what}: ${name} holds no checkpoint (meta.json + tensors.bin), so no job can start from it`);
  const meta = (v.metadata ?? {}) as Json;
  const job = v.jobId ? await services.prisma.job.findUnique({ where: { id: v.jobId }, select: { spec: true } }) : null;
  const spec = (job?.spec ?? null) as Json | null;
  const model = typeof meta.model === "string" ? meta.model : spec ? modelOfJobSpec(spec) : null;
  const dataset = typeof meta.dataset === "string" ? meta.dataset : typeof spec?.dataset === "string" ? spec.dataset : null;
  return { ref, versionId: v.id, name, spec, model, dataset };
}

/** the lineage edge artifact → run, known at submit (the job's run is made when a runner claims it) */
async function recordSourceUse(services: Services, versionId: string, jobId: string, submittedBy: string | null | undefined) {
  await services.prisma.artifactUse.create({ data: { versionId, jobId, usedBy: submittedBy ? `user:${submittedBy}` : null } });
}

/** the model a source job's checkpoint holds: an image model's name, or "char-transformer" for a text fine-tune */
function modelOfJobSpec(spec: Json): string | null {
  return spec.kind === "finetune" && spec.task === "text" ? "char-transformer" : modelOfSpec(spec);
}

/** the image model a source job's checkpoint holds */
export function modelOfSpec(spec: Json): string | null {
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
  // a base run, or a model artifact: follow the job that produced it
  const from =
    typeof base.versionId === "string"
      ? await services.prisma.artifactVersion.findUnique({ where: { id: base.versionId }, select: { jobId: true } })
      : await services.prisma.run.findUnique({ where: { id: String(base.runId) }, select: { jobId: true } });
  const job = from?.jobId ? await services.prisma.job.findUnique({ where: { id: from.jobId } }) : null;
  return job ? textConfigOf(services, job.spec as Json, depth + 1) : null;
}
