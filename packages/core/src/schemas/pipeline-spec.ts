import { z } from "zod";

import { globListSchema } from "../glob";
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
    p.stages.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({ code: "custom", path: ["stages", i, "name"], message: `stage name "${s.name}" is used twice; stage names must be unique` });
      const inner = specInit(s);
      if (inner?.jobId !== undefined || inner?.sources !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "spec", "init"],
          message: "init.jobId and init.sources are filled in by the server; leave them out",
        });
      if (s.init && inner?.fromStage !== undefined && inner.fromStage !== s.init.fromStage)
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "init", "fromStage"],
          message: `the stage says init.fromStage "${s.init.fromStage}" but its spec says "${inner.fromStage}"; give it once`,
        });
      const from = s.init?.fromStage ?? inner?.fromStage;
      if (from !== undefined && !seen.has(from)) {
        const later = p.stages.some((o, j) => j >= i && o.name === from);
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "init", "fromStage"],
          message: later
            ? `stage "${s.name}" starts from stage "${from}", which is not an earlier stage (a stage can only start from one before it)`
            : `stage "${s.name}" starts from stage "${from}", but the pipeline has no stage of that name`,
        });
      }
      seen.add(s.name);
    });
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
  const from = fromStage === undefined ? -1 : p.stages.findIndex((s) => s.name === fromStage);
  const init: Record<string, unknown> = { ...inner, sources: jobIds.slice(0, index) };
  if (fromStage !== undefined) {
    init.fromStage = fromStage;
    init.jobId = jobIds[from];
  }
  if (load !== undefined) init.load = load;
  return { ...stage.spec, init } as PipelineStageSpec;
}
