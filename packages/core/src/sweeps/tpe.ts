/**
 * Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kégl 2011, "Algorithms for
 * Hyper-Parameter Optimization"), in the independent (univariate) form Optuna's default sampler
 * uses. Instead of modelling p(value | x), TPE splits the finished trials into a good set (the
 * best γ of them) and a bad set, fits a Parzen density to each — l(x) over good parameters, g(x)
 * over bad — and proposes, among candidates drawn from l, the one maximising l(x)/g(x), which is
 * proportional to expected improvement under that model.
 */
import type { Rng } from "../ml/rng";
import { logNormalPdf, logSumExp, normalMass } from "./math";
import { type JsonValue, roundQ, type SweepParameter } from "./spec";

export type TpeOptions = {
  /** trials drawn at random before TPE takes over (Optuna: n_startup_trials = 10) */
  startupTrials: number;
  /** candidates drawn from l(x) per parameter (Optuna: n_ei_candidates = 24) */
  candidates: number;
  /** weight of the prior component in each density (Optuna: prior_weight = 1) */
  priorWeight: number;
};

export const DEFAULT_TPE_OPTIONS: TpeOptions = { startupTrials: 10, candidates: 24, priorWeight: 1 };

/** Size of the good set among n observed trials (Optuna's default gamma: 10%, at most 25). */
export function tpeGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/**
 * Per-observation weights, oldest first: flat for under 25 observations, then older ones ramp
 * down so the density follows where the search is now (Optuna's default_weights).
 */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const weights: number[] = [];
  for (let i = 0; i < ramp; i++) weights.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < 25; i++) weights.push(1);
  return weights;
}

/**
 * A numeric parameter in the space TPE models: log for log_uniform (a learning rate's scale is
 * what matters), and for int/q ranges the interval widened by half a step on each side so the
 * end values get a full bin of mass when the draw is rounded back onto the grid.
 */
type NumericSpace = { low: number; high: number; log: boolean; step: number | null; origin: number; last: number };

function numericSpace(p: Extract<SweepParameter, { min: number }>): NumericSpace {
  if (p.distribution === "log_uniform") return { low: Math.log(p.min), high: Math.log(p.max), log: true, step: null, origin: p.min, last: p.max };
  if (p.distribution === "uniform") return { low: p.min, high: p.max, log: false, step: null, origin: p.min, last: p.max };
  const step = p.distribution === "int_uniform" ? 1 : (p.q ?? 1);
  const last = p.min + Math.floor((p.max - p.min) / step + 1e-9) * step;
  return { low: p.min - step / 2, high: last + step / 2, log: false, step, origin: p.min, last };
}

type Mixture = { mus: number[]; sigmas: number[]; logWeights: number[] };

/**
 * Parzen estimator: a truncated Gaussian at each observation plus a wide prior at the centre.
 * Each bandwidth is the distance to the farther neighbour, clipped to [range / min(100, n + 1),
 * range] — Bergstra et al.'s adaptive Parzen estimator with the "magic clip" that keeps a
 * cluster of near-identical observations from collapsing into a spike.
 */
function fitParzen(xs: readonly number[], weights: readonly number[], space: NumericSpace, priorWeight: number): Mixture {
  const range = space.high - space.low;
  const prior = (space.low + space.high) / 2;
  const points = xs.map((x, i) => ({ mu: x, w: weights[i] as number, prior: false }));
  points.push({ mu: prior, w: priorWeight, prior: true });
  points.sort((a, b) => a.mu - b.mu);
  const minSigma = range / Math.min(100, points.length + 1);
  const sigmas = points.map((pt, i) => {
    if (pt.prior || points.length === 1) return range;
    const left = i > 0 ? pt.mu - (points[i - 1] as (typeof points)[number]).mu : 0;
    const right = i < points.length - 1 ? (points[i + 1] as (typeof points)[number]).mu - pt.mu : 0;
    return Math.min(range, Math.max(minSigma, left, right));
  });
  const total = points.reduce((s, pt) => s + pt.w, 0);
  return { mus: points.map((pt) => pt.mu), sigmas, logWeights: points.map((pt) => Math.log(pt.w / total)) };
}

/** log density (continuous) or log mass of the rounded bin (int/q) of the mixture at x. */
function mixtureLogDensity(m: Mixture, x: number, space: NumericSpace): number {
  const terms = m.mus.map((mu, i) => {
    const sigma = m.sigmas[i] as number;
    // each component is truncated to [low, high], so it is renormalised by its mass inside
    const inside = Math.max(normalMass((space.low - mu) / sigma, (space.high - mu) / sigma), 1e-300);
    let logP: number;
    if (space.step !== null) {
      const a = Math.max(space.low, x - space.step / 2);
      const b = Math.min(space.high, x + space.step / 2);
      logP = Math.log(Math.max(normalMass((a - mu) / sigma, (b - mu) / sigma), 1e-300));
    } else {
      logP = logNormalPdf((x - mu) / sigma) - Math.log(sigma);
    }
    return (m.logWeights[i] as number) + logP - Math.log(inside);
  });
  return logSumExp(terms);
}

function sampleMixture(m: Mixture, space: NumericSpace, rng: Rng): number {
  let u = rng.next();
  let k = 0;
  for (; k < m.mus.length - 1; k++) {
    u -= Math.exp(m.logWeights[k] as number);
    if (u < 0) break;
  }
  const mu = m.mus[k] as number;
  const sigma = m.sigmas[k] as number;
  // rejection from the untruncated normal: every mu lies inside [low, high], so at least about
  // half the draws land inside and this rarely loops more than twice
  for (let tries = 0; tries < 64; tries++) {
    const x = mu + sigma * rng.normal();
    if (x >= space.low && x <= space.high) return snap(x, space);
  }
  return snap(Math.min(space.high, Math.max(space.low, mu)), space);
}

/** Rounds a draw onto the grid of an int/q range (anchored at min); identity for continuous ones. */
function snap(x: number, space: NumericSpace): number {
  if (space.step === null) return x;
  const k = Math.round((x - space.origin) / space.step);
  return Math.min(space.last, Math.max(space.origin, space.origin + k * space.step));
}

function toModel(value: number, space: NumericSpace): number {
  return space.log ? Math.log(value) : value;
}

function fromModel(x: number, space: NumericSpace, p: Extract<SweepParameter, { min: number }>): number {
  if (space.log) return Math.min(p.max, Math.max(p.min, Math.exp(x)));
  return space.step !== null && p.distribution === "q_uniform" ? roundQ(x) : x;
}

/** The observed values of one parameter, split into the good and the bad trials. */
export type TpeObservations = { good: readonly JsonValue[]; bad: readonly JsonValue[] };

/** TPE's proposal for one parameter; observations outside the parameter's space are ignored. */
export function tpeSuggestParam(p: SweepParameter, obs: TpeObservations, rng: Rng, options: TpeOptions): JsonValue {
  if ("value" in p) return p.value;
  if ("values" in p) return suggestCategorical(p.values, obs, rng, options);
  const space = numericSpace(p);
  const usable = (vs: readonly JsonValue[]) =>
    vs.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= p.min && v <= p.max).map((v) => toModel(v, space));
  const good = usable(obs.good);
  const bad = usable(obs.bad);
  const l = fitParzen(good, observationWeights(good.length), space, options.priorWeight);
  const g = fitParzen(bad, observationWeights(bad.length), space, options.priorWeight);
  let best = NaN;
  let bestScore = -Infinity;
  for (let i = 0; i < options.candidates; i++) {
    const x = sampleMixture(l, space, rng);
    const score = mixtureLogDensity(l, x, space) - mixtureLogDensity(g, x, space);
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return fromModel(best, space, p);
}

/** Categorical TPE: l and g are smoothed, weighted frequencies of each choice (prior spread evenly). */
function suggestCategorical(choices: readonly JsonValue[], obs: TpeObservations, rng: Rng, options: TpeOptions): JsonValue {
  const keys = choices.map((c) => JSON.stringify(c));
  const probabilities = (vs: readonly JsonValue[]) => {
    const counts = new Array<number>(choices.length).fill(options.priorWeight / choices.length);
    const weights = observationWeights(vs.length);
    vs.forEach((v, i) => {
      const k = keys.indexOf(JSON.stringify(v));
      if (k >= 0) counts[k] = (counts[k] as number) + (weights[i] as number);
    });
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((c) => c / total);
  };
  const l = probabilities(obs.good);
  const g = probabilities(obs.bad);
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < options.candidates; i++) {
    let u = rng.next();
    let k = 0;
    for (; k < l.length - 1; k++) {
      u -= l[k] as number;
      if (u < 0) break;
    }
    const score = Math.log(l[k] as number) - Math.log(g[k] as number);
    if (score > bestScore) [best, bestScore] = [k, score];
  }
  return choices[best] as JsonValue;
}
