/** What services tell connected clients; implemented by the socket.io layer (late-bound). */
export type Notifier = {
  workAvailable(): void;
  cancelJob(runnerId: string, jobId: string): void;
  runStatus(runId: string, status: string): void;
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
  };
}
