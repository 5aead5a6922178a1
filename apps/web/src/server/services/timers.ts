import type { Logger } from "pino";

import type { Services } from ".";
import { startSweepController } from "./sweeps";

/** a periodic job of the server process: `tick` failures are logged, never fatal */
type ServerTimer = { name: string; everyMs: number; tick: (services: Services) => Promise<unknown> };

/** The server's fixed-interval jobs (the sweep controller, below, paces itself). */
export const SERVER_TIMERS: ServerTimer[] = [
  // leases whose runner stopped heartbeating: the attempt is lost and the job requeued
  { name: "lease sweep", everyMs: 1000, tick: (s) => s.jobs.expireLeases() },
  // alert webhooks whose retry came due (services/alerts/delivery-queue.ts)
  { name: "alert deliveries", everyMs: 1000, tick: (s) => s.alerts.deliverDue() },
  // blobs nothing references any more (dropped checkpoints, emptied trash), abandoned uploads
  { name: "blob collection", everyMs: 10 * 60_000, tick: (s) => s.artifacts.collectGarbage() },
  // runs whose client went quiet are shown stale (they revive when it speaks again)
  {
    name: "stale sweep",
    everyMs: 15_000,
    tick: async (s) => {
      for (const id of await s.runs.markStale()) s.notifier.runStatus(id, "stale");
    },
  },
];

/**
 * Starts everything the server does on its own clock: the timers above and the sweep
 * controller. The returned function stops them all (server close).
 */
export function startTimers(services: Services, log: Logger, timers: ServerTimer[] = SERVER_TIMERS): () => Promise<void> {
  const handles = timers.map((t) => {
    const h = setInterval(() => {
      t.tick(services).catch((err: unknown) => log.error({ err }, `${t.name} failed`));
    }, t.everyMs);
    // the listening HTTP server keeps the process alive, not these
    h.unref();
    return h;
  });
  // acts only while this process holds the sweeps lease (one process of a cluster at a time)
  const sweepController = startSweepController(services, log);
  services.sweepHooks.bind(sweepController);
  return async () => {
    handles.forEach((h) => clearInterval(h));
    services.sweepHooks.bind(null);
    await sweepController.stop();
  };
}
