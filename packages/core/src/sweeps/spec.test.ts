import { describe, expect, it } from "vitest";

import { AppError, formatIssues } from "../errors";
import { JobSpecSchema } from "../schemas/job-spec";
import { applyParams } from "./path";
import { type SweepSpec, type SweepSpecInput, SweepSpecSchema } from "./spec";
import { probeParams, validateSweepTrials } from "./validate";

const template = { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 2, batchSize: 64, lr: 0.01 };

function sweep(over: Partial<SweepSpecInput> = {}): SweepSpecInput {
  return {
    method: "random",
    metric: { name: "val/acc", goal: "maximize" },
    parameters: { lr: { min: 1e-4, max: 1e-1, distribution: "log_uniform" }, batchSize: { values: [32, 64, 128] } },
    spec: template,
    maxTrials: 8,
    ...over,
  };
}

/** The formatted refusal, as a 4xx answer would carry it. */
function refusal(input: unknown): string {
  const r = SweepSpecSchema.safeParse(input);
  if (r.success) throw new Error("expected the sweep to be refused");
  return formatIssues(r.error.issues);
}

const jobValidator = (s: Record<string, unknown>) => {
  const r = JobSpecSchema.safeParse(s);
  return r.success ? null : formatIssues(r.error.issues);
};

describe("SweepSpecSchema", () => {
  it("accepts a W&B-like sweep and fills defaults", () => {
    const s = SweepSpecSchema.parse(sweep({ earlyTerminate: { type: "asha" } }));
    expect(s.parallel).toBe(1);
    expect(s.seed).toBe(0);
    expect(s.earlyTerminate).toEqual({ type: "asha", minEpochs: 1, reductionFactor: 3 });
  });

  it.each([
    [{ lr: { min: 0.1, max: 0.01 } }, "parameters.lr.max: max (0.01) must be > min (0.1)"],
    [{ lr: { min: 0, max: 0.1, distribution: "log_uniform" } }, "parameters.lr.min: min must be > 0 for log_uniform"],
    [{ lr: { values: [] } }, "parameters.lr.values: values must not be empty"],
    [{ lr: { values: [1, 1] } }, "values holds 1 twice"],
    [{ epochs: { min: 1.5, max: 4, distribution: "int_uniform" } }, "parameters.epochs.min: min must be an integer for int_uniform"],
    [{ lr: { min: "a", max: 1 } }, "parameters.lr: min: min must be a number"],
    [{ lr: { min: 0, max: 1, q: 0.1 } }, "parameters.lr.q: q applies to distribution q_uniform only"],
    [{ lr: { low: 1 } }, "parameters.lr: a parameter is {values: [...]}"],
    [{ "model..x": { value: 1 } }, 'parameters.model..x: "model..x" has an empty segment'],
    [{ "a.__proto__.b": { value: 1 } }, "may not use the segment __proto__"],
    [{ "constructor.x": { value: 1 } }, "may not use the segment constructor"],
    [{ "0.lr": { value: 1 } }, "must start with a key"],
    [{ "a b": { value: 1 } }, 'segment "a b" must be a key'],
    [{ optim: { value: {} }, "optim.lr": { value: 1 } }, "parameters.optim.lr: optim.lr lies inside optim"],
  ])("refuses bad parameters %j, naming the field", (parameters, message) => {
    expect(refusal(sweep({ parameters: parameters as SweepSpecInput["parameters"] }))).toContain(message);
  });

  it("names the top-level field it refuses", () => {
    expect(refusal(sweep({ maxTrials: undefined }))).toBe("maxTrials: maxTrials is required for method random");
    expect(refusal(sweep({ parallel: 0 }))).toBe("parallel: parallel must be ≥ 1");
    expect(refusal({ ...sweep(), method: "hyperband" })).toBe("method: method must be grid, random or bayes");
    expect(refusal({ ...sweep(), metric: { name: "acc", goal: "max" } })).toBe("metric.goal: goal must be maximize or minimize");
    expect(refusal(sweep({ parameters: {} }))).toBe("parameters: parameters must name at least one path");
    expect(refusal(sweep({ earlyTerminate: { type: "asha", minEpochs: 4, maxEpochs: 2 } }))).toBe(
      "earlyTerminate.maxEpochs: maxEpochs (2) must be > minEpochs (4)",
    );
    expect(refusal({ ...sweep(), earlyTerminate: { type: "hyperband" } })).toContain("earlyTerminate.type must be asha or median");
  });

  it("refuses a continuous range or an oversized product in a grid", () => {
    expect(refusal(sweep({ method: "grid" }))).toBe("parameters.lr.distribution: grid search needs values, a value, or an int_uniform/q_uniform range");
    const huge = { a: { min: 0, max: 99, distribution: "int_uniform" }, b: { min: 0, max: 100, distribution: "int_uniform" } } as const;
    expect(refusal(sweep({ method: "grid", parameters: huge }))).toBe("parameters: the grid has 10100 points; at most 10000 are allowed");
  });
});

describe("applyParams", () => {
  it("sets dot paths on a copy, creating missing objects and indexing arrays", () => {
    const spec = { lr: 0.1, model: { layers: [{ units: 8 }] } };
    const out = applyParams(spec, { lr: 0.5, "model.layers.0.units": 32, "model.layers.1": { units: 4 }, "extra.deep": true });
    expect(out).toEqual({ lr: 0.5, model: { layers: [{ units: 32 }, { units: 4 }] }, extra: { deep: true } });
    expect(spec).toEqual({ lr: 0.1, model: { layers: [{ units: 8 }] } });
  });

  it("refuses paths through non-objects, past arrays, and into prototypes", () => {
    const spec = { model: "mlp", list: [1], nothing: null };
    expect(() => applyParams(spec, { "model.units": 1 })).toThrow("parameters.model.units: model is a string, not an object");
    expect(() => applyParams(spec, { "nothing.x": 1 })).toThrow("nothing is null, not an object");
    expect(() => applyParams(spec, { "list.5": 1 })).toThrow("list has 1 items; index 5 is past its end");
    expect(() => applyParams(spec, { "list.x": 1 })).toThrow('list is an array; "x" is not an index');
    expect(() => applyParams(spec, { "a.__proto__.polluted": 1 })).toThrow(AppError);
    expect(() => applyParams(spec, { "toString.x": 1 })).not.toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("validateSweepTrials", () => {
  it("passes a sweep whose every trial is a valid job", () => {
    expect(() => validateSweepTrials(SweepSpecSchema.parse(sweep()), jobValidator)).not.toThrow();
  });

  it("refuses a range whose extreme is not a valid job, naming the parameter and the job field", () => {
    const s = SweepSpecSchema.parse(sweep({ parameters: { lr: { min: 0.01, max: 20 } } }));
    expect(() => validateSweepTrials(s, jobValidator)).toThrow("spec: the trial with lr=20 is not a valid job: lr: lr must be ≤ 10");
  });

  it("checks every grid point and each categorical choice", () => {
    const grid: SweepSpec = SweepSpecSchema.parse(
      sweep({ method: "grid", parameters: { epochs: { min: 1, max: 3, distribution: "int_uniform" }, model: { values: ["mlp-mnist", "resnet"] } } }),
    );
    expect(probeParams(grid)).toHaveLength(6);
    expect(() => validateSweepTrials(grid, jobValidator)).toThrow('model="resnet"');
    const badPath = SweepSpecSchema.parse(sweep({ parameters: { "dataset.name": { value: "x" } } }));
    expect(() => validateSweepTrials(badPath, jobValidator)).toThrow("parameters.dataset.name: dataset is a string, not an object");
  });
});
