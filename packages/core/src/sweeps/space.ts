import { hash32, Rng } from "../ml/rng";
import { gridAxisLength, gridAxisValue, type JsonValue, roundQ, type SweepParameter, type SweepParams, type SweepSpec } from "./spec";

/**
 * Parameter paths in a fixed order. Sorted rather than insertion order because the server keeps
 * the sweep in a JSON column, and PostgreSQL's jsonb does not keep key order: grid index i must
 * name the same point before and after a restart.
 */
export function paramPaths(sweep: Pick<SweepSpec, "parameters">): string[] {
  return Object.keys(sweep.parameters).sort();
}

/** Points in the cartesian product of all parameters (1 for a sweep of constants only). */
export function gridSize(sweep: Pick<SweepSpec, "parameters">): number {
  let size = 1;
  for (const path of paramPaths(sweep)) {
    const length = gridAxisLength(sweep.parameters[path] as SweepParameter);
    if (length === null) throw new RangeError(`parameters.${path} is a continuous range; it has no grid`);
    size *= length;
  }
  return size;
}

/**
 * The grid point at `index` (0 ≤ index < gridSize), decoded in mixed radix with the last path
 * varying fastest. Computed from the index alone, so a controller that restarts resumes at the
 * next index without replaying anything, and each point comes up exactly once.
 */
export function gridPoint(sweep: Pick<SweepSpec, "parameters">, index: number): SweepParams {
  const size = gridSize(sweep);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`grid index ${index} is outside 0..${size - 1}`);
  const paths = paramPaths(sweep);
  const params: SweepParams = {};
  let rest = index;
  for (let i = paths.length - 1; i >= 0; i--) {
    const path = paths[i] as string;
    const p = sweep.parameters[path] as SweepParameter;
    const length = gridAxisLength(p) as number;
    params[path] = gridAxisValue(p, rest % length);
    rest = Math.floor(rest / length);
  }
  return orderParams(paths, params);
}

/** Rebuilds params in path order (the decode above fills them back to front). */
function orderParams(paths: readonly string[], params: SweepParams): SweepParams {
  const out: SweepParams = {};
  for (const path of paths) out[path] = params[path] as JsonValue;
  return out;
}

/** How many trials the sweep runs in all: the grid (capped by maxTrials), else maxTrials. */
export function sweepTrialCount(sweep: SweepSpec): number {
  if (sweep.method === "grid") return Math.min(gridSize(sweep), sweep.maxTrials ?? Infinity);
  return sweep.maxTrials ?? 0;
}

/**
 * The random stream of one parameter of one trial. Keyed by (seed, trial, path) rather than one
 * generator advanced trial after trial: trial i's parameters depend only on (seed, i), whatever
 * ran before, and adding a parameter to a sweep leaves the other parameters' draws unchanged.
 */
export function paramRng(seed: number, stream: string, trialIndex: number, path: string): Rng {
  return new Rng(hash32(seed, stream, trialIndex, path));
}

/** One draw from a parameter's prior (its distribution as written in the sweep). */
export function sampleParam(p: SweepParameter, rng: Rng): JsonValue {
  if ("values" in p) return p.values[rng.int(p.values.length)] as JsonValue;
  if ("value" in p) return p.value;
  switch (p.distribution) {
    case "uniform":
      return rng.uniform(p.min, p.max);
    case "log_uniform":
      return Math.exp(rng.uniform(Math.log(p.min), Math.log(p.max)));
    case "int_uniform":
      return p.min + rng.int(p.max - p.min + 1);
    case "q_uniform": {
      const steps = gridAxisLength(p) as number;
      return roundQ(p.min + rng.int(steps) * (p.q ?? 1));
    }
  }
}

/** Random search: every parameter drawn independently from its prior. */
export function randomParams(sweep: Pick<SweepSpec, "parameters" | "seed">, trialIndex: number): SweepParams {
  const params: SweepParams = {};
  for (const path of paramPaths(sweep)) {
    params[path] = sampleParam(sweep.parameters[path] as SweepParameter, paramRng(sweep.seed, "random", trialIndex, path));
  }
  return params;
}
