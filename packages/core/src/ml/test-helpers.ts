/** Shared fixtures for the ml tests (not exported from the package entry). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { JobContext, JobProgress } from "../jobs/job-context";

export type FakeCtx = JobContext & {
  logs: { step: number; metrics: Record<string, number> }[];
  progress: (p: JobProgress) => void;
  progresses: JobProgress[];
  infos: string[];
  warnings: string[];
  summary: Record<string, unknown>;
  abort: AbortController;
};

export function fakeCtx(opts: { dir?: string; onLog?: (step: number, m: Record<string, number>, c: FakeCtx) => void } = {}): FakeCtx {
  const abort = new AbortController();
  const c: FakeCtx = {
    logs: [],
    progresses: [],
    infos: [],
    warnings: [],
    summary: {},
    abort,
    signal: abort.signal,
    checkpointDir: opts.dir ?? mkdtempSync(join(tmpdir(), "heron-ml-test-")),
    log(metrics, step) {
      c.logs.push({ step, metrics });
      opts.onLog?.(step, metrics, c);
    },
    logText() {},
    progress(p) {
      c.progresses.push(p);
    },
    setSummary(v) {
      Object.assign(c.summary, v);
    },
    info(m) {
      c.infos.push(m);
    },
    warn(m) {
      c.warnings.push(m);
    },
  };
  return c;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a-b| / max(|b|), the kernel tests' relative error */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxAbsDiff(a, b) / scale;
}
