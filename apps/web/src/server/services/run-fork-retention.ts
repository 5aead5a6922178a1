/** the newest checkpoints, kept for a requeued attempt to resume from */
export const KEEP_NEWEST = 2;
/** older checkpoints kept besides, spread over the run, for run.fork to start from */
export const KEEP_HISTORY = 8;

/**
 * Which of a job's complete checkpoints to drop after a new one is committed. The newest
 * KEEP_NEWEST stay (resume); of the older ones at most KEEP_HISTORY stay, thinned one at a
 * time by dropping the checkpoint whose neighbours are closest together — so what is kept
 * stays spread over the whole run (a fork can start near any step), and storage per job stays
 * bounded at KEEP_NEWEST + KEEP_HISTORY checkpoints. The oldest is never the one dropped.
 */
export function checkpointsToDrop(steps: number[]): number[] {
  const desc = [...new Set(steps)].sort((a, b) => b - a);
  const history = desc.slice(KEEP_NEWEST);
  const dropped: number[] = [];
  while (history.length > KEEP_HISTORY) {
    // history is descending; an interior point i sits between history[i - 1] (newer; the
    // newest kept one for i = 0) and history[i + 1] (older)
    let best = 0;
    let bestGap = Infinity;
    for (let i = 0; i < history.length - 1; i++) {
      const newer = i === 0 ? desc[KEEP_NEWEST - 1]! : history[i - 1]!;
      const gap = newer - history[i + 1]!;
      if (gap < bestGap) {
        bestGap = gap;
        best = i;
      }
    }
    dropped.push(...history.splice(best, 1));
  }
  return dropped;
}
