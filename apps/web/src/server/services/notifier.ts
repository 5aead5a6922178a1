import type { LivePointsEvent, RunStatus } from "@heron/core";

/** What services tell connected clients; implemented by the socket.io layer (late-bound). */
export type Notifier = {
  workAvailable(): void;
  cancelJob(runnerId: string, jobId: string): void;
  runStatus(runId: string, status: RunStatus): void;
  /** new points of a run, for the dashboards watching it */
  livePoints(runId: string, event: LivePointsEvent): void;
  /** disconnects the SDK sockets of a job attempt whose lease ended (a late process can't keep writing) */
  revokeJob(jobId: string, fencingToken: number): void;
  /** disconnects every socket opened with this credential ("key:<id>", "session:<id>", "runner:<id>") on every server */
  revokeCredential(room: string): void;
};

export function createLateNotifier(): Notifier & { bind(n: Notifier): void } {
  let target: Notifier | null = null;
  return {
    bind(n) {
      target = n;
    },
    workAvailable: () => target?.workAvailable(),
    cancelJob: (runnerId, jobId) => target?.cancelJob(runnerId, jobId),
    runStatus: (runId, status) => target?.runStatus(runId, status),
    livePoints: (runId, event) => target?.livePoints(runId, event),
    revokeJob: (jobId, fencingToken) => target?.revokeJob(jobId, fencingToken),
    revokeCredential: (room) => target?.revokeCredential(room),
  };
}
