import { gridPoint, paramPaths, paramRng, randomParams, sweepTrialCount } from "./space";
import type { JsonValue, SweepGoal, SweepParameter, SweepParams, SweepSpec } from "./spec";
import { DEFAULT_TPE_OPTIONS, tpeGamma, type TpeOptions, tpeSuggestParam } from "./tpe";

/** A trial as the search sees it; the server maps its own job/run states onto these. */
export type SweepTrialStatus = "running" | "completed" | "pruned" | "failed";

export type SweepHistoryEntry = {
  params: SweepParams;
  /** the metric: a completed trial's final value, a pruned trial's last reported one; null when none */
  value: number | null;
  status: SweepTrialStatus;
};

export type SuggestInput = {
  sweep: SweepSpec;
  /** every trial created so far, oldest first (trial index order), whatever its status */
  history: readonly SweepHistoryEntry[];
  /** index of the trial being created (0-based); random draws are keyed by it */
  trialIndex: number;
};

/**
 * Parameters for trial `trialIndex`. Stateless: everything it needs is the sweep and the stored
 * history, so the controller can persist trials in the database and call this again after a
 * restart. Same inputs, same answer (every draw is keyed by seed, trial index and path).
 * Throws RangeError for a grid index past the grid; use sweepTrialCount to know when to stop.
 */
export function suggest(input: SuggestInput, options: Partial<TpeOptions> = {}): SweepParams {
  const { sweep, trialIndex } = input;
  if (!Number.isSafeInteger(trialIndex) || trialIndex < 0) throw new RangeError(`trialIndex must be an integer ≥ 0, got ${trialIndex}`);
  if (sweep.method === "grid") {
    if (trialIndex >= sweepTrialCount(sweep)) throw new RangeError(`the grid sweep has ${sweepTrialCount(sweep)} trials; index ${trialIndex} is past them`);
    return gridPoint(sweep, trialIndex);
  }
  if (sweep.method === "random") return randomParams(sweep, trialIndex);
  return suggestTpe(input, { ...DEFAULT_TPE_OPTIONS, ...options });
}

/** Lower is better, whatever the goal; NaN and ±Infinity (a diverged trial) rank last. */
export function goalScore(value: number, goal: SweepGoal): number {
  if (!Number.isFinite(value)) return Infinity;
  return goal === "minimize" ? value : -value;
}

/**
 * Splits the observed trials into TPE's good and bad sets. Completed trials are ranked by their
 * metric and the best γ(n) are good. Pruned trials count in n but are always bad: they stopped
 * early because they were losing, and their partial metric is not comparable with a final one
 * (Optuna likewise ranks pruned trials after every completed one). Running and failed trials
 * carry no evidence about the objective.
 */
export function splitObservations(history: readonly SweepHistoryEntry[], goal: SweepGoal): { good: SweepHistoryEntry[]; bad: SweepHistoryEntry[] } {
  const completed = history
    .filter((t): t is SweepHistoryEntry & { value: number } => t.status === "completed" && t.value !== null)
    .map((t, order) => ({ t, order, score: goalScore(t.value, goal) }))
    // ties keep trial order, so the split is the same however the database returns them
    .sort((a, b) => a.score - b.score || a.order - b.order);
  const pruned = history.filter((t) => t.status === "pruned");
  const nGood = Math.min(tpeGamma(completed.length + pruned.length), completed.length);
  const good = completed.slice(0, nGood);
  const bad = completed.slice(nGood);
  // back in trial order: observation weights favour recent trials
  const inOrder = (xs: typeof completed) => xs.sort((a, b) => a.order - b.order).map((x) => x.t);
  return { good: inOrder(good), bad: [...inOrder(bad), ...pruned] };
}

function suggestTpe(input: SuggestInput, options: TpeOptions): SweepParams {
  const { sweep, history, trialIndex } = input;
  const observed = history.filter((t) => (t.status === "completed" && t.value !== null) || t.status === "pruned");
  const split = splitObservations(history, sweep.metric.goal);
  // until enough trials finished (and at least one is good), TPE's densities would be the prior:
  // the startup trials are exactly the random sweep's trials for the same seed
  if (observed.length < options.startupTrials || split.good.length === 0) return randomParams(sweep, trialIndex);
  const params: SweepParams = {};
  for (const path of paramPaths(sweep)) {
    const values = (entries: readonly SweepHistoryEntry[]) => entries.filter((t) => Object.hasOwn(t.params, path)).map((t) => t.params[path] as JsonValue);
    params[path] = tpeSuggestParam(
      sweep.parameters[path] as SweepParameter,
      { good: values(split.good), bad: values(split.bad) },
      paramRng(sweep.seed, "tpe", trialIndex, path),
      options,
    );
  }
  return params;
}
