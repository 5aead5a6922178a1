import type { MetricsStore } from "@heron/db";

import type { Notifier } from "../notifier";

/**
 * How the rest of the server nudges this process's sweep controller without knowing it: a job
 * that ends (its run's status is announced) or a watched trial run that stores points wakes it,
 * so the next trial is queued, or a trial judged, at once rather than at the next tick. Late
 * bound: services are built before the controller starts. Costs a Set lookup per batch for runs
 * that are not sweep trials.
 */
export function createSweepHooks() {
  let controller: { wake(): void; watchedRuns: ReadonlySet<string> } | null = null;
  const wake = () => controller?.wake();
  return {
    wake,
    bind(c: { wake(): void; watchedRuns: ReadonlySet<string> } | null) {
      controller = c;
    },
    /** the notifier, waking the controller whenever a run's status changes (a job ended or started) */
    watchNotifier<N extends Notifier>(notifier: N): N {
      const runStatus = notifier.runStatus.bind(notifier);
      notifier.runStatus = (runId, status) => {
        runStatus(runId, status);
        wake();
      };
      return notifier;
    },
    /** the metrics store, waking the controller when a running trial's run stores new points */
    watchMetrics(store: MetricsStore): MetricsStore {
      const write = store.write.bind(store);
      store.write = async (runId, points, writer) => {
        const r = await write(runId, points, writer);
        if (r.inserted > 0 && controller?.watchedRuns.has(runId)) wake();
        return r;
      };
      return store;
    },
  };
}
export type SweepHooks = ReturnType<typeof createSweepHooks>;
