import type { JobContext, JobProgress, TextSample } from "../jobs/job-context";

/**
 * What a job needs of a tracking run: @heron/sdk's Run has this shape. Structural, so core
 * does not depend on the SDK package (which bundles core's protocol and schemas).
 */
export type TrackedRun = {
  log(metrics: Record<string, number>, opts: { step?: number }): void;
  logText(key: string, rows: TextSample[], opts: { step?: number }): void;
  readonly summary: Record<string, unknown>;
};

export type RunContextOptions = {
  checkpointDir: string;
  signal: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  /** also log progress as progress/* metrics (default true; the runner's job process reports it on stdout instead) */
  progressMetrics?: boolean;
  /** rewinds the run's points after a checkpoint step (the runner provides a fenced one) */
  rewind?: (step: number) => Promise<void>;
};

/** Adapts a tracking-SDK run into the JobContext jobs see: the runner's job process and `heron train` use it. */
export function jobContextFromRun(run: TrackedRun, opts: RunContextOptions): JobContext {
  return {
    log: (metrics, step) => run.log(metrics, { step }),
    logText: (key, rows, step) => run.logText(key, rows, { step }),
    progress: (p) => {
      if (opts.progressMetrics !== false)
        run.log({ "progress/epoch": p.epoch, "progress/samples_per_s": p.samplesPerSec, "progress/eta_s": p.etaSec }, { step: p.step });
      opts.onProgress?.(p);
    },
    setSummary: (values) => Object.assign(run.summary, values),
    info: (m) => console.log(m),
    warn: (m) => console.warn(`[warn] ${m}`),
    checkpointDir: opts.checkpointDir,
    signal: opts.signal,
    ...(opts.rewind ? { rewind: opts.rewind } : {}),
  };
}
