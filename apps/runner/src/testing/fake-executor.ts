import type { Lease } from "@heron/core";

import { type ExecutionResult, type Executor, EXIT_OK, EXIT_STOPPED } from "../executor";

export type FakeJobRecord = { jobId: string; attempt: number; fencingToken: number; startedAt: number; endedAt?: number; result?: ExecutionResult };

/**
 * A fast, in-process stand-in for a job: logs a line, "works" for `durationMs`, exits 0.
 * SIGTERM stops it (exit 3, like a real job that checkpoints), SIGKILL at once. Tests and the
 * scheduler benchmark use it to exercise the queue without paying for child processes.
 */
export function createFakeExecutor(opts: { durationMs: number; onStart?: (lease: Lease) => void }): Executor & { records: FakeJobRecord[] } {
  const records: FakeJobRecord[] = [];
  return {
    records,
    start(lease, ctx) {
      const rec: FakeJobRecord = { jobId: lease.jobId, attempt: lease.attempt, fencingToken: lease.fencingToken, startedAt: Date.now() };
      records.push(rec);
      opts.onStart?.(lease);
      ctx.onLog("stdout", `fake job ${lease.jobId} attempt ${lease.attempt} started`);
      let finish: (r: ExecutionResult) => void = () => undefined;
      const done = new Promise<ExecutionResult>((resolve) => {
        finish = (r) => {
          clearTimeout(timer);
          rec.endedAt ??= Date.now();
          rec.result ??= r;
          resolve(r);
        };
      });
      const timer = setTimeout(() => {
        ctx.onLog("stdout", `fake job ${lease.jobId} done`);
        finish({ exitCode: EXIT_OK, signal: null });
      }, opts.durationMs);
      return {
        kill: (signal) => setTimeout(() => finish(signal === "SIGKILL" ? { exitCode: null, signal } : { exitCode: EXIT_STOPPED, signal: null }), 10),
        done,
      };
    },
  };
}
