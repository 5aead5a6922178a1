import { z } from "zod";

import { JsonObjectSchema, MetricKeySchema } from "../schemas/common";
import { checkParamPath } from "./path";

/** A grid sweep runs its whole cartesian product; past this it is almost surely a typo in a range. */
export const SWEEP_MAX_GRID_SIZE = 10_000;
export const SWEEP_MAX_TRIALS = 10_000;
/** categorical choices per parameter (TPE weighs each one; thousands would be a table, not a search) */
export const SWEEP_MAX_VALUES = 1_000;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** One trial's parameters: dot path into the job spec → the value set there. */
export type SweepParams = Record<string, JsonValue>;

const int = (name: string) => z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);
const num = (name: string) => z.number({ error: `${name} must be a number` });
const json = z.json() as z.ZodType<JsonValue, JsonValue>;

export const ValuesParamSchema = z
  .object({ values: z.array(json).min(1, "values must not be empty").max(SWEEP_MAX_VALUES, `values may hold at most ${SWEEP_MAX_VALUES} choices`) })
  .strict()
  .superRefine((p, ctx) => {
    // a duplicate would make a grid run the same point twice and give TPE a lopsided prior
    const seen = new Set<string>();
    p.values.forEach((v, i) => {
      const key = JSON.stringify(v);
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["values", i], message: `values holds ${key} twice` });
      seen.add(key);
    });
  });

export const DistributionSchema = z.enum(["uniform", "log_uniform", "int_uniform", "q_uniform"], {
  error: () => "distribution must be uniform, log_uniform, int_uniform or q_uniform",
});
export type Distribution = z.infer<typeof DistributionSchema>;

export const RangeParamSchema = z
  .object({
    min: num("min"),
    max: num("max"),
    distribution: DistributionSchema.default("uniform"),
    /** q_uniform only: values are min, min + q, min + 2q … ≤ max (default 1) */
    q: num("q").positive("q must be > 0").optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.min >= p.max) ctx.addIssue({ code: "custom", path: ["max"], message: `max (${p.max}) must be > min (${p.min})` });
    if (p.distribution === "log_uniform" && p.min <= 0) ctx.addIssue({ code: "custom", path: ["min"], message: "min must be > 0 for log_uniform" });
    if (p.distribution === "int_uniform") {
      if (!Number.isSafeInteger(p.min)) ctx.addIssue({ code: "custom", path: ["min"], message: "min must be an integer for int_uniform" });
      if (!Number.isSafeInteger(p.max)) ctx.addIssue({ code: "custom", path: ["max"], message: "max must be an integer for int_uniform" });
    }
    if (p.q !== undefined && p.distribution !== "q_uniform") ctx.addIssue({ code: "custom", path: ["q"], message: "q applies to distribution q_uniform only" });
    if (p.distribution === "q_uniform" && p.min < p.max && (p.max - p.min) / (p.q ?? 1) > 1e6) {
      ctx.addIssue({ code: "custom", path: ["q"], message: "q is so small that the range holds over a million steps; use uniform" });
    }
  });

export const ConstParamSchema = z.object({ value: json }).strict();

const PARAM_SHAPES = "a parameter is {values: [...]}, {min, max, distribution?, q?} or {value}";

export const SweepParameterSchema = z.union([ValuesParamSchema, RangeParamSchema, ConstParamSchema], {
  // A union that fails reports only "invalid input"; pick the branch the user meant from the
  // keys they wrote and surface that branch's first complaint, so the field is named.
  error: (iss) => {
    if (iss.code !== "invalid_union" || typeof iss.input !== "object" || iss.input === null) return PARAM_SHAPES;
    const keys = Object.keys(iss.input);
    const branch = keys.includes("values") ? 0 : keys.includes("value") ? 2 : keys.some((k) => k === "min" || k === "max") ? 1 : -1;
    const first = branch >= 0 ? iss.errors[branch]?.[0] : undefined;
    if (!first) return PARAM_SHAPES;
    return first.path.length ? `${first.path.map(String).join(".")}: ${first.message}` : first.message;
  },
});
export type SweepParameter = z.infer<typeof SweepParameterSchema>;
export type RangeParam = z.infer<typeof RangeParamSchema>;

export const SweepMethodSchema = z.enum(["grid", "random", "bayes"], { error: () => "method must be grid, random or bayes" });
export type SweepMethod = z.infer<typeof SweepMethodSchema>;
export const SweepGoalSchema = z.enum(["maximize", "minimize"], { error: () => "goal must be maximize or minimize" });
export type SweepGoal = z.infer<typeof SweepGoalSchema>;

/** Asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning"). */
export const AshaSchema = z
  .object({
    type: z.literal("asha"),
    /** the first rung: trials are first compared after this many epochs */
    minEpochs: int("minEpochs").min(1, "minEpochs must be ≥ 1").default(1),
    /** η: rungs at minEpochs·η^k; a trial passes a rung only in the top 1/η of the trials that reached it */
    reductionFactor: int("reductionFactor").min(2, "reductionFactor must be ≥ 2").max(100, "reductionFactor must be ≤ 100").default(3),
    /** the trials' full budget; no rung at or past it (optional: rungs continue while trials report) */
    maxEpochs: int("maxEpochs").min(1, "maxEpochs must be ≥ 1").optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.maxEpochs !== undefined && a.maxEpochs <= a.minEpochs) {
      ctx.addIssue({ code: "custom", path: ["maxEpochs"], message: `maxEpochs (${a.maxEpochs}) must be > minEpochs (${a.minEpochs})` });
    }
  });

/** Median stopping rule (Golovin et al. 2017, Google Vizier), as Optuna's MedianPruner. */
export const MedianStopSchema = z
  .object({
    type: z.literal("median"),
    /** no trial is stopped before it reported this epoch (warm-up: early epochs are noisy) */
    minEpochs: int("minEpochs").min(0, "minEpochs must be ≥ 0").default(1),
    /** other trials needed at an epoch before their median means anything */
    minTrials: int("minTrials").min(1, "minTrials must be ≥ 1").default(3),
  })
  .strict();

export const EarlyTerminateSchema = z.discriminatedUnion("type", [AshaSchema, MedianStopSchema], {
  error: () => "earlyTerminate.type must be asha or median",
});
export type EarlyTerminate = z.infer<typeof EarlyTerminateSchema>;

export const SweepSpecSchema = z
  .object({
    method: SweepMethodSchema,
    metric: z.object({ name: MetricKeySchema, goal: SweepGoalSchema }).strict(),
    /** dot path into `spec` (e.g. "lr", "model.hidden.0") → how to choose its value per trial */
    parameters: z.record(z.string(), SweepParameterSchema),
    /** the job spec template; each trial is this with its parameters set (the server validates it as a job spec) */
    spec: JsonObjectSchema,
    /** required for random and bayes; a grid runs its whole product unless this caps it */
    maxTrials: int("maxTrials").min(1, "maxTrials must be ≥ 1").max(SWEEP_MAX_TRIALS, `maxTrials must be ≤ ${SWEEP_MAX_TRIALS}`).optional(),
    /** trials running at once */
    parallel: int("parallel").min(1, "parallel must be ≥ 1").max(256, "parallel must be ≤ 256").default(1),
    seed: int("seed")
      .min(0, "seed must be ≥ 0")
      .max(2 ** 32 - 1, "seed must be < 2^32")
      .default(0),
    earlyTerminate: EarlyTerminateSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const paths = Object.keys(s.parameters);
    if (paths.length === 0) ctx.addIssue({ code: "custom", path: ["parameters"], message: "parameters must name at least one path" });
    for (const path of paths) {
      const problem = checkParamPath(path);
      if (problem) ctx.addIssue({ code: "custom", path: ["parameters", path], message: problem });
    }
    // "optim" and "optim.lr" both set: whichever is applied last silently wins
    for (const a of paths) {
      const clash = paths.find((b) => b.startsWith(a + "."));
      if (clash) ctx.addIssue({ code: "custom", path: ["parameters", clash], message: `${clash} lies inside ${a}, which is also swept` });
    }
    if (s.method !== "grid" && s.maxTrials === undefined) {
      ctx.addIssue({ code: "custom", path: ["maxTrials"], message: `maxTrials is required for method ${s.method}` });
    }
    if (s.method === "grid") checkGrid(s.parameters, ctx);
  });
export type SweepSpec = z.infer<typeof SweepSpecSchema>;
/** what a user writes (defaults not yet applied) */
export type SweepSpecInput = z.input<typeof SweepSpecSchema>;

/** How many grid points one parameter has, or null when its range is continuous. */
export function gridAxisLength(p: SweepParameter): number | null {
  if ("values" in p) return p.values.length;
  if ("value" in p) return 1;
  if (p.distribution === "int_uniform") return p.max - p.min + 1;
  // the epsilon keeps max itself when (max - min) / q is an integer up to float error
  if (p.distribution === "q_uniform") return Math.floor((p.max - p.min) / (p.q ?? 1) + 1e-9) + 1;
  return null;
}

/** The i-th grid point of one parameter (0 ≤ i < gridAxisLength), computed, not enumerated. */
export function gridAxisValue(p: SweepParameter, i: number): JsonValue {
  if ("values" in p) return p.values[i] as JsonValue;
  if ("value" in p) return p.value;
  if (p.distribution === "int_uniform") return p.min + i;
  return roundQ(p.min + i * (p.q ?? 1));
}

/** min + k·q in floats drifts (0.1 + 2·0.1 = 0.30000000000000004); trial configs should read 0.3. */
export function roundQ(x: number): number {
  return Number(x.toPrecision(12));
}

function checkGrid(parameters: Record<string, SweepParameter>, ctx: z.RefinementCtx): void {
  let size = 1;
  for (const [path, p] of Object.entries(parameters)) {
    const length = gridAxisLength(p);
    if (length === null) {
      ctx.addIssue({
        code: "custom",
        path: ["parameters", path, "distribution"],
        message: "grid search needs values, a value, or an int_uniform/q_uniform range",
      });
      return;
    }
    size *= length;
  }
  if (size > SWEEP_MAX_GRID_SIZE) {
    ctx.addIssue({ code: "custom", path: ["parameters"], message: `the grid has ${size} points; at most ${SWEEP_MAX_GRID_SIZE} are allowed` });
  }
}
