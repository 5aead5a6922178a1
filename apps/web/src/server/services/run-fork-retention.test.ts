import { describe, expect, it } from "vitest";

import { checkpointsToDrop, KEEP_HISTORY, KEEP_NEWEST } from "./run-fork-retention";

/** commits checkpoints one by one, dropping what the rule says after each, like the store */
function simulate(steps: number[]): number[] {
  let kept: number[] = [];
  for (const s of steps) {
    kept.push(s);
    const drop = checkpointsToDrop(kept);
    kept = kept.filter((k) => !drop.includes(k));
  }
  return kept.sort((a, b) => a - b);
}

describe("checkpoint retention for forks", () => {
  it("keeps everything while there are few checkpoints", () => {
    expect(checkpointsToDrop([10, 20, 30])).toEqual([]);
    expect(simulate([5, 10, 15, 20, 25, 30, 35, 40, 45, 50])).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  });

  it("bounds what a long run keeps, keeps the newest two, and spreads the rest over the run", () => {
    const steps = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10);
    const kept = simulate(steps);
    expect(kept).toHaveLength(KEEP_NEWEST + KEEP_HISTORY);
    expect(kept.slice(-2)).toEqual([9990, 10000]);
    // the oldest survives, and no gap between kept checkpoints exceeds a quarter of the run
    expect(kept[0]).toBe(10);
    const gaps = kept.slice(1).map((s, i) => s - kept[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2500);
  });
});
