import { describe, expect, it } from "vitest";

import { gridPoint, gridSize, randomParams, sweepTrialCount } from "./space";
import { type SweepParams, type SweepSpec, type SweepSpecInput, SweepSpecSchema } from "./spec";
import { suggest, type SweepHistoryEntry } from "./suggest";

function parse(input: Omit<SweepSpecInput, "spec" | "metric"> & Partial<SweepSpecInput>): SweepSpec {
  return SweepSpecSchema.parse({ metric: { name: "loss", goal: "minimize" }, spec: { kind: "train" }, ...input });
}

describe("grid search", () => {
  const sweep = parse({
    method: "grid",
    parameters: {
      batchSize: { values: [32, 64, 128] },
      epochs: { min: 1, max: 2, distribution: "int_uniform" },
      lr: { min: 0.1, max: 0.3, distribution: "q_uniform", q: 0.1 },
      kind: { value: "train" },
    },
  });

  it("runs exactly the cartesian product, each point once", () => {
    expect(gridSize(sweep)).toBe(3 * 2 * 3);
    expect(sweepTrialCount(sweep)).toBe(18);
    const points = Array.from({ length: 18 }, (_, i) => suggest({ sweep, history: [], trialIndex: i }));
    const expected: SweepParams[] = [];
    for (const batchSize of [32, 64, 128])
      for (const epochs of [1, 2]) for (const lr of [0.1, 0.2, 0.3]) expected.push({ batchSize, epochs, kind: "train", lr });
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(18);
    expect(points.map((p) => JSON.stringify(p)).sort()).toEqual(expected.map((p) => JSON.stringify(p)).sort());
    expect(() => suggest({ sweep, history: [], trialIndex: 18 })).toThrow(RangeError);
  });

  it("resumes from an index: gridPoint(i) is the same whatever ran before and however keys are ordered", () => {
    // a jsonb round trip reorders keys; the grid order must not follow
    const reordered = parse({ method: "grid", parameters: Object.fromEntries(Object.entries(sweep.parameters).reverse()) });
    for (let i = 0; i < 18; i++) expect(gridPoint(reordered, i)).toEqual(gridPoint(sweep, i));
    expect(gridPoint(sweep, 0)).toEqual({ batchSize: 32, epochs: 1, kind: "train", lr: 0.1 });
    expect(gridPoint(sweep, 17)).toEqual({ batchSize: 128, epochs: 2, kind: "train", lr: 0.3 });
  });

  it("caps the grid at maxTrials", () => {
    expect(sweepTrialCount(parse({ method: "grid", maxTrials: 5, parameters: sweep.parameters }))).toBe(5);
  });
});

describe("random search", () => {
  const parameters = {
    lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" },
    batchSize: { values: [32, 64, 128] },
    layers: { min: 1, max: 4, distribution: "int_uniform" },
    dropout: { min: 0, max: 0.5 },
  } satisfies SweepSpecInput["parameters"];

  it("is reproducible per seed and trial index alone", () => {
    const a = parse({ method: "random", maxTrials: 50, seed: 7, parameters });
    const first = Array.from({ length: 50 }, (_, i) => suggest({ sweep: a, history: [], trialIndex: i }));
    // out of order, with a history: trial i's params depend on (seed, i) only
    const history: SweepHistoryEntry[] = first.map((params) => ({ params, value: 1, status: "completed" }));
    for (const i of [49, 3, 17, 0]) expect(suggest({ sweep: a, history, trialIndex: i })).toEqual(first[i]);
    const other = parse({ method: "random", maxTrials: 50, seed: 8, parameters });
    expect(randomParams(other, 0)).not.toEqual(first[0]);
  });

  it("draws inside each parameter's range, log-uniformly for log_uniform", () => {
    const s = parse({ method: "random", maxTrials: 400, parameters });
    const draws = Array.from({ length: 400 }, (_, i) => randomParams(s, i));
    for (const d of draws) {
      expect(d.lr).toBeGreaterThanOrEqual(1e-4);
      expect(d.lr).toBeLessThanOrEqual(1e-1);
      expect([32, 64, 128]).toContain(d.batchSize);
      expect([1, 2, 3, 4]).toContain(d.layers);
    }
    // log-uniform over three decades: about a third below 1e-3, not 0.9% as uniform would give
    const below = draws.filter((d) => (d.lr as number) < 1e-3).length / draws.length;
    expect(below).toBeGreaterThan(0.25);
    expect(below).toBeLessThan(0.42);
    expect(new Set(draws.map((d) => d.layers)).size).toBe(4);
  });
});

/** Runs a sequential sweep against an objective and returns the best value seen. */
function bestOf(sweep: SweepSpec, objective: (p: SweepParams) => number): number {
  const history: SweepHistoryEntry[] = [];
  for (let i = 0; i < (sweep.maxTrials as number); i++) {
    const params = suggest({ sweep, history, trialIndex: i });
    history.push({ params, value: objective(params), status: "completed" });
  }
  return Math.min(...history.map((t) => t.value as number));
}

function compare(parameters: SweepSpecInput["parameters"], objective: (p: SweepParams) => number, seeds = 20) {
  let tpe = 0;
  let random = 0;
  let wins = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const t = bestOf(parse({ method: "bayes", maxTrials: 20, seed, parameters }), objective);
    const r = bestOf(parse({ method: "random", maxTrials: 20, seed, parameters }), objective);
    tpe += t / seeds;
    random += r / seeds;
    if (t < r) wins++;
  }
  return { tpe, random, wins };
}

describe("TPE (bayes)", () => {
  it("beats random search on a 2-D quadratic within 20 trials, on average over 20 seeds", () => {
    const quadratic = (p: SweepParams) => ((p.x as number) - 1.5) ** 2 + ((p.y as number) + 2) ** 2;
    const { tpe, random, wins } = compare({ x: { min: -5, max: 5 }, y: { min: -5, max: 5 } }, quadratic);
    expect(tpe).toBeLessThan(random * 0.8);
    expect(wins).toBeGreaterThan(10);
  });

  it("beats random search on a log-scale learning rate (six decades) within 20 trials", () => {
    // what matters is lr's order of magnitude; the optimum is 3e-3
    const loss = (p: SweepParams) => (Math.log10(p.lr as number) - Math.log10(3e-3)) ** 2;
    const { tpe, random } = compare({ lr: { min: 1e-6, max: 1, distribution: "log_uniform" } }, loss);
    expect(tpe).toBeLessThan(random * 0.8);
  });

  it("prefers the categorical choice the good trials share", () => {
    const bayes = parse({ method: "bayes", maxTrials: 40, parameters: { batchSize: { values: [16, 32, 64, 128, 256] } } });
    const choices = [16, 32, 64, 128, 256];
    const history: SweepHistoryEntry[] = Array.from({ length: 20 }, (_, i) => {
      const batchSize = choices[i % 5] as number;
      return { params: { batchSize }, value: batchSize === 64 ? 0.1 : 1, status: "completed" };
    });
    const next = Array.from({ length: 20 }, (_, k) => suggest({ sweep: bayes, history, trialIndex: 20 + k }).batchSize);
    expect(next.filter((b) => b === 64).length).toBeGreaterThanOrEqual(15);
  });

  it("starts as the random sweep with the same seed, then uses the history", () => {
    const parameters = { x: { min: -5, max: 5 } } as const;
    const bayes = parse({ method: "bayes", maxTrials: 20, seed: 3, parameters });
    const random = parse({ method: "random", maxTrials: 20, seed: 3, parameters });
    for (let i = 0; i < 10; i++) expect(suggest({ sweep: bayes, history: [], trialIndex: i })).toEqual(randomParams(random, i));
    // ten finished trials all say "x near 4 is good": TPE must go there, random would not care
    const history: SweepHistoryEntry[] = Array.from({ length: 10 }, (_, i) => {
      const x = -5 + i;
      return { params: { x }, value: Math.abs(x - 4), status: "completed" };
    });
    const next = Array.from({ length: 10 }, (_, k) => suggest({ sweep: bayes, history, trialIndex: 10 + k }).x as number);
    expect(next.filter((x) => Math.abs(x - 4) < 2).length).toBeGreaterThanOrEqual(7);
    // stateless: the same inputs give the same answer
    expect(suggest({ sweep: bayes, history, trialIndex: 12 })).toEqual(suggest({ sweep: bayes, history, trialIndex: 12 }));
  });

  it("keeps int and q ranges on their grid and log ranges in bounds", () => {
    const s = parse({
      method: "bayes",
      maxTrials: 30,
      parameters: {
        layers: { min: 1, max: 6, distribution: "int_uniform" },
        width: { min: 0.5, max: 2, distribution: "q_uniform", q: 0.25 },
        lr: { min: 1e-5, max: 1e-2, distribution: "log_uniform" },
      },
    });
    const history: SweepHistoryEntry[] = [];
    for (let i = 0; i < 30; i++) {
      const params = suggest({ sweep: s, history, trialIndex: i });
      expect(Number.isInteger(params.layers)).toBe(true);
      expect(params.layers).toBeGreaterThanOrEqual(1);
      expect(params.layers).toBeLessThanOrEqual(6);
      expect([0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]).toContain(params.width);
      expect(params.lr).toBeGreaterThanOrEqual(1e-5);
      expect(params.lr).toBeLessThanOrEqual(1e-2);
      history.push({ params, value: i % 4 === 0 ? null : (params.layers as number) - (params.width as number), status: i % 4 === 0 ? "failed" : "completed" });
    }
  });
});
