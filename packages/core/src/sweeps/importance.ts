import { averageRanks, mean, spearman } from "./math";
import { paramPaths } from "./space";
import type { JsonValue, SweepParameter, SweepSpec } from "./spec";

export type ImportanceTrial = { params: Readonly<Record<string, JsonValue>>; value: number | null };

export type ParameterImportance = {
  path: string;
  /**
   * Spearman's ρ between the parameter and the metric (sign kept: + means larger values go with
   * a larger metric; rank by its absolute value). Null for choices that are not numbers, which
   * have no order, and when either side is constant.
   */
  correlation: number | null;
  /**
   * Share of the metric's variance explained by this parameter alone, in [0, 1]: a one-way
   * ANOVA over bins of the parameter (its choices, or quantile bins of a range), the first-order
   * term of fANOVA (Hutter et al. 2014) without the forest. Reported as ε², which subtracts what
   * noise explains by chance, so a parameter with many bins and no effect sits near 0.
   */
  importance: number;
  /** trials that had both this parameter and a finite metric */
  trials: number;
};

/**
 * Importance of each swept parameter for the metric, most important first. Constant parameters
 * are left out (they cannot explain anything). Pure, so the dashboard can recompute it as
 * trials finish.
 */
export function parameterImportance(sweep: Pick<SweepSpec, "parameters">, trials: readonly ImportanceTrial[]): ParameterImportance[] {
  const out: ParameterImportance[] = [];
  for (const path of paramPaths(sweep)) {
    const p = sweep.parameters[path] as SweepParameter;
    if ("value" in p) continue;
    const xs: JsonValue[] = [];
    const ys: number[] = [];
    for (const t of trials) {
      if (t.value === null || !Number.isFinite(t.value) || !Object.hasOwn(t.params, path)) continue;
      xs.push(t.params[path] as JsonValue);
      ys.push(t.value);
    }
    const numeric = xs.every((x) => typeof x === "number");
    const correlation = numeric && xs.length >= 3 ? spearman(xs as number[], ys) : null;
    const bins = "values" in p ? categoryBins(xs) : quantileBins(xs as number[]);
    out.push({ path, correlation, importance: epsilonSquared(bins, ys), trials: ys.length });
  }
  return out.sort((a, b) => b.importance - a.importance || Math.abs(b.correlation ?? 0) - Math.abs(a.correlation ?? 0));
}

/** One bin per distinct choice. */
function categoryBins(xs: readonly JsonValue[]): number[] {
  const ids = new Map<string, number>();
  return xs.map((x) => {
    const key = JSON.stringify(x);
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key) as number;
  });
}

/**
 * About √n equal-count bins by rank (2 to 10), with equal values always in the same bin. Ranks
 * make the bins independent of scale, so a log-uniform range needs no special case.
 */
function quantileBins(xs: readonly number[]): number[] {
  const n = xs.length;
  const k = Math.max(2, Math.min(10, Math.round(Math.sqrt(n))));
  return averageRanks(xs).map((rank) => Math.min(k - 1, Math.floor(((rank - 1) * k) / n)));
}

/**
 * ε² of a one-way ANOVA: (SS_between − (k − 1)·MS_within) / SS_total, clipped to [0, 1]. η²
 * (SS_between / SS_total) would credit a pure-noise parameter with (k − 1)/(n − 1) on average.
 */
export function epsilonSquared(bins: readonly number[], ys: readonly number[]): number {
  const n = ys.length;
  const groups = new Map<number, number[]>();
  bins.forEach((b, i) => {
    const g = groups.get(b) ?? [];
    g.push(ys[i] as number);
    groups.set(b, g);
  });
  const k = groups.size;
  if (n < 3 || k < 2 || n <= k) return 0;
  const grand = mean(ys);
  let total = 0;
  for (const y of ys) total += (y - grand) ** 2;
  if (total === 0) return 0;
  let between = 0;
  for (const g of groups.values()) between += g.length * (mean(g) - grand) ** 2;
  const msWithin = (total - between) / (n - k);
  return Math.min(1, Math.max(0, (between - (k - 1) * msWithin) / total));
}
