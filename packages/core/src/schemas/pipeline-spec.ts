import { z } from "zod";

import { globListSchema } from "../glob";
import { checkPipelineStages } from "../jobs/pipeline-check";
import { DistillSpecSchema } from "./distill-spec";
import { FinetuneSpecSchema } from "./finetune-spec";
import { TrainSpecSchema } from "./train-spec";
import { VlmStageSpecSchema } from "./vlm-spec";

/**
 * `kind: "pipeline"` — an ordered list of named stages, each a training job spec. Every stage
 * becomes its own job and run (one group); stage N+1 is queued when stage N succeeds and may
 * start from an earlier stage's checkpoint (`init.fromStage`). The server fills each stage's
 * `init.jobId` (the job of `fromStage`) and `init.sources` (every earlier stage's job) when
 * it creates the stage jobs; a user never writes those. Browser-safe.
 */

/** most stages one pipeline may hold: every stage is a job, and init.sources lists the earlier ones */
export const MAX_PIPELINE_STAGES = 16;

/** the job kinds a stage may be: the ones that train and checkpoint */
export const PIPELINE_STAGE_KINDS = ["train", "distill", "finetune", "vlm-stage"] as const;

export const StageNameSchema = z
  .string({ error: "a stage name must be a string" })
  .min(1, "a stage name must not be empty")
  .max(100, "a stage name is longer than 100 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a stage name may hold letters, digits, '.', '_' and '-' and must start with a letter or digit");

const kindOf = (input: unknown) => (input && typeof input === "object" ? (input as { kind?: unknown }).kind : undefined);

export const PipelineStageSpecSchema = z.discriminatedUnion("kind", [TrainSpecSchema, DistillSpecSchema, FinetuneSpecSchema, VlmStageSpecSchema], {
  error: (iss) => {
    const kind = kindOf(iss.input);
    if (kind === "pipeline" || kind === "vlm") return `a ${kind} cannot be a stage of another pipeline`;
    return `kind must be one of ${PIPELINE_STAGE_KINDS.join(", ")}${typeof kind === "string" ? ` (got "${kind.slice(0, 40)}")` : ""}`;
  },
});
export type PipelineStageSpec = z.infer<typeof PipelineStageSpecSchema>;

/** what a stage starts from, stated on the stage (it may also sit in the stage spec's own `init`) */
export const StageInitSchema = z
  .object({
    fromStage: StageNameSchema,
    /** tensor names (globs) to load from that stage's checkpoint; default: every tensor the model also has */
    load: globListSchema("init.load").optional(),
  })
  .strict();

export const PipelineStageSchema = z
  .object({
    name: StageNameSchema,
    spec: PipelineStageSpecSchema,
    init: StageInitSchema.optional(),
  })
  .strict();
export type PipelineStage = z.infer<typeof PipelineStageSchema>;

type StageInitLike = { fromStage?: string; jobId?: string; sources?: string[] } | undefined;
const specInit = (s: PipelineStage): StageInitLike => (s.spec as { init?: StageInitLike }).init;

/** a distill stage's teacher / a fine-tune stage's base given as `{fromStage}`: which field, which stage */
export function stageSourceOf(spec: PipelineStageSpec): { field: "teacher" | "base"; fromStage: string; jobId?: string } | null {
  const ref = spec.kind === "distill" ? spec.teacher : spec.kind === "finetune" ? spec.base : null;
  if (!ref || !("fromStage" in ref)) return null;
  return { field: spec.kind === "distill" ? "teacher" : "base", fromStage: ref.fromStage, jobId: ref.jobId };
}

export const PipelineSpecSchema = z
  .object({
    kind: z.literal("pipeline"),
    name: z.string().min(1, "name must not be empty").max(200, "name is longer than 200 characters").optional(),
    stages: z
      .array(PipelineStageSchema)
      .min(1, "a pipeline needs at least one stage")
      .max(MAX_PIPELINE_STAGES, `a pipeline holds at most ${MAX_PIPELINE_STAGES} stages`),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    let structural = 0;
    const add = (issue: { code: "custom"; path: (string | number)[]; message: string }) => {
      structural++;
      ctx.addIssue(issue);
    };
    p.stages.forEach((s, i) => {
      if (seen.has(s.name)) add({ code: "custom", path: ["stages", i, "name"], message: `stage name "${s.name}" is used twice; stage names must be unique` });
      const inner = specInit(s);
      if (inner?.jobId !== undefined || inner?.sources !== undefined)
        add({
          code: "custom",
          path: ["stages", i, "spec", "init"],
          message: "init.jobId and init.sources are filled in by the server; leave them out",
        });
      if (s.init && inner?.fromStage !== undefined && inner.fromStage !== s.init.fromStage)
        add({
          code: "custom",
          path: ["stages", i, "init", "fromStage"],
          message: `the stage says init.fromStage "${s.init.fromStage}" but its spec says "${inner.fromStage}"; give it once`,
        });
      const earlier = (from: string, path: (string | number)[], what: string) => {
        if (seen.has(from)) return;
        const later = p.stages.some((o, j) => j >= i && o.name === from);
        add({
          code: "custom",
          path,
          message: later
            ? `stage "${s.name}" ${what} stage "${from}", which is not an earlier stage (a stage can only start from one before it)`
            : `stage "${s.name}" ${what} stage "${from}", but the pipeline has no stage of that name`,
        });
      };
      const from = s.init?.fromStage ?? inner?.fromStage;
      if (from !== undefined) earlier(from, ["stages", i, "init", "fromStage"], "starts from");
      const src = stageSourceOf(s.spec);
      if (src?.jobId !== undefined)
        add({ code: "custom", path: ["stages", i, "spec", src.field, "jobId"], message: `${src.field}.jobId is filled in by the server; leave it out` });
      if (src) earlier(src.fromStage, ["stages", i, "spec", src.field, "fromStage"], `takes its ${src.field} from`);
      seen.add(s.name);
    });
    // names and shapes across stages, once every stage names earlier stages only
    if (structural === 0) for (const issue of checkPipelineStages(p.stages)) ctx.addIssue({ code: "custom", ...issue });
  });
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;

/**
 * The spec a stage's job runs: its own spec with `init` completed — `fromStage` and `load`
 * from the stage, `jobId` the job of the stage it starts from, `sources` every earlier
 * stage's job (frozen tensors an earlier checkpoint left out point into those). `jobIds`
 * holds the jobs of the stages before this one, in order.
 */
export function stageJobSpec(p: PipelineSpec, index: number, jobIds: readonly string[]): PipelineStageSpec {
  const stage = p.stages[index];
  if (!stage) throw new Error(`pipeline has no stage ${index}`);
  const inner = specInit(stage) as Record<string, unknown> | undefined;
  const fromStage = stage.init?.fromStage ?? (inner?.fromStage as string | undefined);
  const load = stage.init?.load ?? (inner?.load as string[] | undefined);
  if (fromStage === undefined && index === 0) return stage.spec;
  const jobOf = (name: string) => jobIds[p.stages.findIndex((s) => s.name === name)];
  const init: Record<string, unknown> = { ...inner, sources: jobIds.slice(0, index) };
  if (fromStage !== undefined) {
    init.fromStage = fromStage;
    init.jobId = jobOf(fromStage);
  }
  if (load !== undefined) init.load = load;
  const out: Record<string, unknown> = { ...stage.spec, init };
  // a teacher/base from an earlier stage: the runner fetches that stage's checkpoint like a run's
  const src = stageSourceOf(stage.spec);
  if (src) out[src.field] = { fromStage: src.fromStage, jobId: jobOf(src.fromStage) };
  return out as PipelineStageSpec;
}
