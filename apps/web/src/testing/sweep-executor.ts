import { createFakeExecutor, type Executor } from "@heron/runner";

/**
 * A stand-in training job for sweep tests: the shared fake executor, reporting `test/accuracy`
 * at each epoch end (one step an epoch) as a smooth function of the spec's lr and batchSize
 * (best near lr 3e-3, batch 64), so a sweep has a known optimum and early stopping has
 * something to compare. Stops like a killed process when cancelled (or pruned).
 */
export function createSweepExecutor(opts: { epochMs?: number } = {}): Executor {
  return createFakeExecutor({
    stepMs: opts.epochMs ?? 150,
    stepsPerEpoch: 1,
    accuracyAt: (spec, epoch) => {
      const batchSize = typeof spec.batchSize === "number" ? spec.batchSize : 64;
      return sweepQuality(typeof spec.lr === "number" ? spec.lr : 0.01, batchSize) * (1 - 0.5 ** epoch);
    },
  });
}

/** the final accuracy a trial with these parameters reaches (in (0, 1)) */
export function sweepQuality(lr: number, batchSize: number): number {
  return Math.max(0.05, 0.95 - 0.2 * Math.abs(Math.log10(lr) + 2.5) - Math.abs(Math.log2(batchSize / 64)) * 0.05);
}
