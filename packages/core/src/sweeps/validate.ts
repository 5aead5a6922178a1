import { AppError } from "../errors";
import { applyParams } from "./path";
import { gridPoint, paramPaths, sweepTrialCount } from "./space";
import { gridAxisLength, gridAxisValue, type JsonValue, type SweepParameter, type SweepParams, type SweepSpec } from "./spec";

/**
 * Checks one trial's job spec; returns why it is invalid, or null. The server passes the job
 * spec schema here (core's sweep module stays free of job kinds), e.g.
 * `(s) => { const r = JobSpecSchema.safeParse(s); return r.success ? null : formatIssues(r.error.issues); }`.
 */
export type TrialSpecValidator = (spec: Record<string, unknown>) => string | null;

/**
 * The parameter sets to check before a sweep starts. A grid is finite: every point that will
 * run. Random and TPE draw from ranges, so the check is one-at-a-time over each parameter's
 * extremes (every categorical choice, both ends of a range) with the others at their first
 * extreme; an invalid value inside a range but not at its ends (a job schema that refuses a
 * hole), or a pair invalid only together, still fails as that trial's job.
 */
export function probeParams(sweep: SweepSpec): SweepParams[] {
  if (sweep.method === "grid") {
    const count = sweepTrialCount(sweep);
    return Array.from({ length: count }, (_, i) => gridPoint(sweep, i));
  }
  const paths = paramPaths(sweep);
  const extremes = new Map(paths.map((path) => [path, paramExtremes(sweep.parameters[path] as SweepParameter)]));
  const base: SweepParams = {};
  for (const path of paths) base[path] = (extremes.get(path) as JsonValue[])[0] as JsonValue;
  const probes: SweepParams[] = [base];
  for (const path of paths) {
    for (const value of (extremes.get(path) as JsonValue[]).slice(1)) probes.push({ ...base, [path]: value });
  }
  return probes;
}

/** Every choice of a categorical; the smallest and largest value a range can produce. */
export function paramExtremes(p: SweepParameter): JsonValue[] {
  if ("values" in p) return p.values;
  if ("value" in p) return [p.value];
  const length = gridAxisLength(p);
  if (length !== null) return [gridAxisValue(p, 0), gridAxisValue(p, length - 1)];
  return [p.min, p.max];
}

/** One trial's job spec: the template with the trial's parameters set. */
export function trialSpec(sweep: SweepSpec, params: SweepParams): Record<string, unknown> {
  return applyParams(sweep.spec, params);
}

/**
 * Refuses a sweep whose trials would not be valid jobs: throws AppError("BAD_REQUEST") naming
 * the parameters of the first bad trial and what the validator said. Call it at sweep creation,
 * before anything is queued.
 */
export function validateSweepTrials(sweep: SweepSpec, validate: TrialSpecValidator): void {
  for (const params of probeParams(sweep)) {
    const problem = validate(trialSpec(sweep, params));
    if (problem !== null) {
      const shown = Object.entries(params)
        .map(([path, value]) => `${path}=${JSON.stringify(value)}`)
        .join(", ");
      throw new AppError("BAD_REQUEST", `spec: the trial with ${shown} is not a valid job: ${problem}`);
    }
  }
}

/** Same check without throwing, for a form that shows the problem inline. */
export function checkSweepTrials(sweep: SweepSpec, validate: TrialSpecValidator): string | null {
  try {
    validateSweepTrials(sweep, validate);
    return null;
  } catch (e) {
    if (e instanceof AppError) return e.message;
    throw e;
  }
}
