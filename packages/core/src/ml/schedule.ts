/**
 * Learning-rate schedules over optimizer steps: linear warmup from 0 to the peak lr over
 * `warmupSteps`, then constant / linear decay to 0 / cosine decay to 0 at `totalSteps`.
 * A pure function of the step, so resumed runs need no scheduler state.
 */
export type ScheduleName = "constant" | "linear" | "cosine";

export function learningRate(step: number, o: { lr: number; schedule: ScheduleName; warmupSteps: number; totalSteps: number }): number {
  // step is 0-based: the lr used for the (step+1)-th update
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  if (o.schedule === "constant") return o.lr;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - o.warmupSteps) / span));
  if (o.schedule === "linear") return o.lr * (1 - progress);
  return o.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
