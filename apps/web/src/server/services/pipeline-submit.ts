import { AppError, expandVlmRecipe, formatIssues, type PipelineSpec, PipelineSpecSchema, VlmSpecSchema } from "@heron/core";

import { assertBaseFits, assertTeacherFits, resolveSourceRun, type SubmitInput, type SubmitResult } from "./distill-submit";
import type { Services } from "./index";

/**
 * Submit of a `pipeline` spec or a `vlm` recipe (null for other kinds). A recipe is expanded
 * into its pipeline of `vlm-stage` jobs; the pipeline job keeps the recipe as its spec, for
 * display. A pipeline is validated (unique stage names, each `init.fromStage` and teacher/base
 * `fromStage` an earlier stage, and every stage able to load what it starts from: names and
 * shapes, LoRA targets, freeze patterns — jobs/pipeline-check.ts), resolves the teacher/base
 * run of distill and fine-tune stages to its job and checks it like a single job's submit
 * does, then creates the pipeline job and one job per stage (services/pipelines.ts). Returns the pipeline's job first, then the stages'.
 */
export async function submitPipeline(services: Services, input: SubmitInput): Promise<SubmitResult | null> {
  const kind = (input.spec as { kind?: unknown } | null)?.kind;
  if (kind === "vlm") {
    const recipe = VlmSpecSchema.safeParse(input.spec);
    if (!recipe.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(recipe.error.issues)}`);
    const expanded = PipelineSpecSchema.safeParse({ kind: "pipeline", ...expandVlmRecipe(recipe.data) });
    // the recipe builds its stages itself: a refusal here is a bug in the recipe, not the input
    if (!expanded.success) throw new Error(`the vlm recipe expanded into an invalid pipeline: ${formatIssues(expanded.error.issues)}`);
    return submitStages(services, input, expanded.data, recipe.data);
  }
  if (kind !== "pipeline") return null;
  const parsed = PipelineSpecSchema.safeParse(input.spec);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
  return submitStages(services, input, parsed.data, parsed.data);
}

/** creates a validated pipeline's jobs; `shownSpec` is what the pipeline job shows as its spec */
export async function submitStages(services: Services, input: SubmitInput, spec: PipelineSpec, shownSpec: object): Promise<SubmitResult> {
  const project = await services.projects.get(input.projectId);
  const stages = [];
  for (const [i, stage] of spec.stages.entries()) stages.push({ ...stage, spec: await resolveStageSources(services, stage.spec, i) });
  const { pipeline, stageIds, group } = await services.jobs.pipelines.submit(
    { ...spec, stages },
    {
      projectId: project.id,
      queue: input.queue ?? "default",
      priority: input.priority ?? 0,
      maxAttempts: input.maxAttempts ?? 3,
      group: input.group ?? null,
      submittedBy: input.submittedBy ?? null,
      shownSpec,
    },
  );
  return { jobId: pipeline.id, jobIds: [pipeline.id, ...stageIds], group };
}

/**
 * A distill stage's teacher run / a fine-tune stage's base run → the job whose checkpoint it
 * reads, checked as a single job's submit checks it (input shape and distillation methods;
 * text or image model and LoRA targets). Teachers/bases from earlier stages were checked by
 * PipelineSpecSchema (jobs/pipeline-check.ts).
 */
async function resolveStageSources<S extends PipelineSpec["stages"][number]["spec"]>(services: Services, spec: S, i: number): Promise<S> {
  const at = `stages.${i}.spec`;
  if (spec.kind === "distill" && "runId" in spec.teacher) {
    const src = await resolveSourceRun(services, spec.teacher.runId, `${at}.teacher`);
    assertTeacherFits(spec, { ...src, name: `run ${src.runId}` }, `${at}.teacher`);
    return { ...spec, teacher: { runId: src.runId, jobId: src.jobId } };
  }
  if (spec.kind === "finetune" && "runId" in spec.base) {
    const src = await resolveSourceRun(services, spec.base.runId, `${at}.base`);
    await assertBaseFits(services, spec, { ...src, name: `run ${src.runId}` }, `${at}.base`);
    return { ...spec, base: { runId: src.runId, jobId: src.jobId } };
  }
  return spec;
}
