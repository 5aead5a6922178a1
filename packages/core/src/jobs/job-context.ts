/**
 * What a job (train / distill / finetune) gets from whoever runs it: the runner's job
 * process adapts a tracking-SDK run into this, `heron train` adapts a local run, tests
 * pass a fake. Jobs never talk to the network themselves.
 */
export type JobProgress = {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  samplesPerSec: number;
  etaSec: number;
};

/** an image shown beside a text sample: PNG bytes as base64 (the SDK's logImage format) */
export type TextSampleImage = { width: number; height: number; png: string };

export type TextSample = { text: string; caption?: string; image?: TextSampleImage };

export type JobContext = {
  /** scalar metrics at a step, e.g. {"train/loss": 0.3}; never blocks */
  log(metrics: Record<string, number>, step: number): void;
  /** text samples, e.g. fine-tuning's question / model answer / ground truth rows */
  logText(key: string, rows: TextSample[], step: number): void;
  progress(p: JobProgress): void;
  /** merged into the run's summary (e.g. final accuracy, parameter counts, backend) */
  setSummary(values: Record<string, unknown>): void;
  /** human-readable line for the run's logs */
  info(message: string): void;
  warn: (message: string) => void;
  /** directory private to this job (checkpoints live here, across attempts on one host) */
  checkpointDir: string;
  /** a job resuming from a checkpoint at `step` calls this first: points after it are dropped */
  rewind?(step: number): Promise<void>;
  /** aborted on cancel / drain: stop at the next step boundary and return */
  signal: AbortSignal;
};

export type JobResult = {
  /** final metrics worth showing in the runs table (also logged) */
  summary: Record<string, number | string>;
};
