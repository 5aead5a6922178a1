import { median } from "./math";
import type { EarlyTerminate, SweepGoal } from "./spec";
import { goalScore } from "./suggest";

/** The metric a trial reported at the end of an epoch. */
export type EpochReport = { epoch: number; value: number };

export type PruneInput = {
  earlyTerminate: EarlyTerminate;
  goal: SweepGoal;
  /** every trial's stored reports (trial id → reports in any order), the asking trial included */
  reports: Readonly<Record<string, readonly EpochReport[]>>;
  trialId: string;
  /** the epoch the trial just reported; later reports of it, if any, are ignored */
  epoch: number;
};

export type PruneDecision = { prune: boolean; reason: string };

/**
 * Whether a trial should stop after reporting `epoch`. Stateless, decided from the stored reports
 * alone, so the controller calls it as each report arrives and again after a restart. Call it
 * once per report: a decision weighs the trials that had reported by then, as the algorithms do.
 */
export function shouldPrune(input: PruneInput): PruneDecision {
  const own = reportsUpTo(input.reports[input.trialId] ?? [], input.epoch);
  if (!own.some((r) => r.epoch === input.epoch)) return { prune: false, reason: `trial ${input.trialId} has no report at epoch ${input.epoch}` };
  return input.earlyTerminate.type === "asha" ? ashaDecision(input, input.earlyTerminate, own) : medianDecision(input, input.earlyTerminate, own);
}

function reportsUpTo(reports: readonly EpochReport[], epoch: number): EpochReport[] {
  return reports.filter((r) => r.epoch <= epoch).sort((a, b) => a.epoch - b.epoch);
}

/** A trial's metric at a rung: its first report at or after the rung's epoch (epochs may be skipped). */
function valueAtRung(reports: readonly EpochReport[], rung: number): number | undefined {
  let found: EpochReport | undefined;
  for (const r of reports) if (r.epoch >= rung && (found === undefined || r.epoch < found.epoch)) found = r;
  return found?.value;
}

/**
 * ASHA (Li et al. 2018): rungs at minEpochs·η^k. A trial that just reached a rung continues only
 * if its metric there is among the best ⌊n/η⌋ (at least one) of the n trials that reached that
 * rung so far; otherwise it stops. Unlike synchronous successive halving nobody waits for a full
 * bracket: the first trial to reach a rung always continues, later ones face a growing field.
 */
function ashaDecision(input: PruneInput, asha: Extract<EarlyTerminate, { type: "asha" }>, own: readonly EpochReport[]): PruneDecision {
  const previous = own.length > 1 ? (own[own.length - 2] as EpochReport).epoch : -Infinity;
  const eta = asha.reductionFactor;
  for (let rung = asha.minEpochs; rung <= input.epoch; rung *= eta) {
    // a trial at its full budget has nothing left to save
    if (asha.maxEpochs !== undefined && rung >= asha.maxEpochs) break;
    // judge each rung once, when the trial's reports first cross it
    if (rung <= previous) continue;
    const scores: number[] = [];
    for (const [id, reports] of Object.entries(input.reports)) {
      const value = valueAtRung(id === input.trialId ? own : reports, rung);
      if (value !== undefined) scores.push(goalScore(value, input.goal));
    }
    const mine = goalScore(valueAtRung(own, rung) as number, input.goal);
    scores.sort((a, b) => a - b);
    const keep = Math.max(1, Math.floor(scores.length / eta));
    const cutoff = scores[keep - 1] as number;
    if (mine > cutoff) {
      return { prune: true, reason: `asha: at rung ${rung} the metric is not in the best ${keep} of ${scores.length} trials (top 1/${eta})` };
    }
  }
  return { prune: false, reason: "asha: no rung failed" };
}

/**
 * Median stopping (Golovin et al. 2017, "Google Vizier"): after the warm-up, a trial stops when
 * its best metric so far is worse than the median of the other trials' metrics at the same epoch.
 */
function medianDecision(input: PruneInput, rule: Extract<EarlyTerminate, { type: "median" }>, own: readonly EpochReport[]): PruneDecision {
  if (input.epoch < rule.minEpochs) return { prune: false, reason: `median: warm-up until epoch ${rule.minEpochs}` };
  const others: number[] = [];
  for (const [id, reports] of Object.entries(input.reports)) {
    if (id === input.trialId) continue;
    const atEpoch = reports.find((r) => r.epoch === input.epoch);
    if (atEpoch) others.push(goalScore(atEpoch.value, input.goal));
  }
  if (others.length < rule.minTrials)
    return { prune: false, reason: `median: ${others.length} other trials reached epoch ${input.epoch}; ${rule.minTrials} needed` };
  const best = Math.min(...own.map((r) => goalScore(r.value, input.goal)));
  const mid = median(others);
  if (best > mid) return { prune: true, reason: `median: best so far is worse than the median of ${others.length} other trials at epoch ${input.epoch}` };
  return { prune: false, reason: `median: at or better than the median of ${others.length} other trials at epoch ${input.epoch}` };
}
