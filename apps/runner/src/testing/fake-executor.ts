import type { Lease } from "@heron/core";
import { init } from "@heron/sdk";

import { type ExecutionResult, type Executor, EXIT_OK, EXIT_STOPPED } from "../executor";

export type FakeJobRecord = { jobId: string; attempt: number; fencingToken: number; startedAt: number; endedAt?: number; result?: ExecutionResult };

export type FakeExecutorOptions =
  /** "works" for `durationMs` without tracking anything: exercises the queue, leases and drains */
  | { durationMs: number; onStart?: (lease: Lease) => void }
  /** logs a loss curve through the real SDK with the lease's job token, one step every `stepMs` */
  | { stepMs?: number; stepsPerEpoch?: number; onStart?: (lease: Lease) => void; accuracyAt?: AccuracyAt };

/** the `test/accuracy` a fake job reports at the end of `epoch` (1-based), e.g. as a function of its spec's hyperparameters */
export type AccuracyAt = (spec: Record<string, unknown>, epoch: number) => number;

type Started = ReturnType<Executor["start"]>;

/**
 * The one fast, in-process stand-in for a job, shared by the runner's tests, the scheduler
 * benchmark and the web app's browser and cross-server tests, none of which should pay for
 * a child process and tfjs. With `durationMs` it logs a line, waits, exits 0; SIGTERM stops it
 * (exit 3, like a real job that checkpoints), SIGKILL at once. Without it, it logs
 * `stepsPerEpoch × epochs` steps through the SDK (the dashboard has live charts to show) and
 * stops like a killed process when signalled.
 */
export function createFakeExecutor(opts: FakeExecutorOptions = {}): Executor & { records: FakeJobRecord[] } {
  const records: FakeJobRecord[] = [];
  return {
    records,
    start(lease, ctx) {
      const rec: FakeJobRecord = { jobId: lease.jobId, attempt: lease.attempt, fencingToken: lease.fencingToken, startedAt: Date.now() };
      records.push(rec);
      opts.onStart?.(lease);
      const started = "durationMs" in opts ? startTimed(lease, ctx, opts.durationMs) : startLogging(lease, ctx, opts);
      const done = started.done.then((r) => {
        rec.endedAt ??= Date.now();
        rec.result ??= r;
        return r;
      });
      return { kill: started.kill, done };
    },
  };
}

function startTimed(lease: Lease, ctx: Parameters<Executor["start"]>[1], durationMs: number): Started {
  ctx.onLog("stdout", `fake job ${lease.jobId} attempt ${lease.attempt} started`);
  let finish: (r: ExecutionResult) => void = () => undefined;
  const done = new Promise<ExecutionResult>((resolve) => {
    finish = (r) => {
      clearTimeout(timer);
      resolve(r);
    };
  });
  const timer = setTimeout(() => {
    ctx.onLog("stdout", `fake job ${lease.jobId} done`);
    finish({ exitCode: EXIT_OK, signal: null });
  }, durationMs);
  return {
    kill: (signal) => setTimeout(() => finish(signal === "SIGKILL" ? { exitCode: null, signal } : { exitCode: EXIT_STOPPED, signal: null }), 10),
    done,
  };
}

function startLogging(
  lease: Lease,
  ctx: Parameters<Executor["start"]>[1],
  opts: { stepMs?: number; stepsPerEpoch?: number; accuracyAt?: AccuracyAt },
): Started {
  const stepMs = opts.stepMs ?? 100;
  const perEpoch = opts.stepsPerEpoch ?? 20;
  let killed: NodeJS.Signals | null = null;
  const done = (async (): Promise<ExecutionResult> => {
    const run = await init({
      host: ctx.serverUrl,
      apiKey: lease.jobToken,
      project: lease.projectName,
      id: lease.runId,
      resume: "allow",
      config: lease.spec,
    });
    const epochs = "epochs" in lease.spec ? Number(lease.spec.epochs) : 1;
    const total = epochs * perEpoch;
    ctx.onLog("stdout", `[fake] job ${lease.jobId}: ${total} steps`);
    for (let step = 0; step < total && !killed; step++) {
      run.log({ "train/loss": 2 * Math.exp(-step / 30) + 0.05 * Math.sin(step), "train/lr": 0.001 }, { step });
      const epoch = (step + 1) / perEpoch;
      if (Number.isInteger(epoch))
        run.log({ "test/accuracy": opts.accuracyAt ? opts.accuracyAt(lease.spec, epoch) : 1 - Math.exp(-(step + 1) / 40) }, { step });
      await new Promise((r) => setTimeout(r, stepMs));
    }
    await run.finish({ state: killed ? "aborted" : "finished" }).catch(() => undefined);
    return killed ? { exitCode: null, signal: killed } : { exitCode: 0, signal: null };
  })().catch((err: unknown) => {
    ctx.onLog("stderr", String(err));
    return { exitCode: 1, signal: null };
  });
  return { kill: (signal) => void (killed ??= signal), done };
}
