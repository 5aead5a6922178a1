/**
 * Sweeps: hyperparameter search over job specs. Pure and browser-safe (no node, tfjs or
 * database): the server's sweep controller and the dashboard both build on it.
 *
 * Spec and trials
 * - `SweepSpecSchema` / `SweepSpec`: what a user submits; refusals name the field.
 * - `validateSweepTrials(sweep, validate)`: throws AppError("BAD_REQUEST") if a trial would not
 *   be a valid job (grid: every point; random/bayes: each parameter's extremes). `validate` is
 *   the job spec check, passed in so this module knows no job kinds.
 * - `trialSpec(sweep, params)` / `applyParams(spec, params)`: a trial's job spec.
 * - `sweepTrialCount(sweep)`: trials in all; a sweep is done when that many have finished.
 *
 * Search: `suggest({sweep, history, trialIndex}) → params`. Stateless: `history` is every trial
 * created so far in index order, `{params, value, status}` with status running | completed |
 * pruned | failed, read back from the database. Same inputs, same params. grid: `gridPoint(i)`;
 * random: draws keyed by (seed, i); bayes: TPE after 10 random startup trials.
 *
 * Early stopping: `shouldPrune({earlyTerminate, goal, reports, trialId, epoch}) → {prune,
 * reason}`, called once per epoch report with every trial's stored reports (ASHA or median).
 *
 * Dashboard: `parameterImportance(sweep, trials)` → per parameter, Spearman correlation and a
 * variance-share importance; `spearman`, `pearson` for other plots.
 */
export { type EpochReport, type PruneDecision, type PruneInput, shouldPrune } from "./early-stop";
export { type ImportanceTrial, type ParameterImportance, parameterImportance } from "./importance";
export { pearson, spearman } from "./math";
export { applyParams, checkParamPath } from "./path";
export { gridPoint, gridSize, paramPaths, randomParams, sweepTrialCount } from "./space";
export {
  type Distribution,
  type EarlyTerminate,
  EarlyTerminateSchema,
  type JsonValue,
  SWEEP_MAX_GRID_SIZE,
  SWEEP_MAX_TRIALS,
  type SweepGoal,
  SweepGoalSchema,
  type SweepMethod,
  SweepMethodSchema,
  type SweepParameter,
  SweepParameterSchema,
  type SweepParams,
  type SweepSpec,
  type SweepSpecInput,
  SweepSpecSchema,
} from "./spec";
export { goalScore, suggest, type SuggestInput, type SweepHistoryEntry, type SweepTrialStatus } from "./suggest";
export { DEFAULT_TPE_OPTIONS, type TpeOptions } from "./tpe";
export { checkSweepTrials, probeParams, trialSpec, type TrialSpecValidator, validateSweepTrials } from "./validate";
