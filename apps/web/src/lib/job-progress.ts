/**
 * Training jobs print `[progress] epoch E/N step S/T X samples/s ETA Ys` to their log
 * (apps/runner/src/job-process.ts); the server reads the newest such line of a run to show
 * progress and ETA outside the Logs tab. Pure: used by the server and the dashboard.
 */
export type JobProgress = { epoch: number; epochs: number; step: number; totalSteps: number; samplesPerSec: number | null; etaSec: number | null };

const PROGRESS = /^\[progress\] epoch (\d+)\/(\d+) step (\d+)\/(\d+)(?: (\d+(?:\.\d+)?) samples\/s)?(?: ETA (\d+(?:\.\d+)?)s)?/;

export function parseProgressLine(line: string): JobProgress | null {
  const m = PROGRESS.exec(line.trim());
  if (!m) return null;
  return {
    epoch: Number(m[1]),
    epochs: Number(m[2]),
    step: Number(m[3]),
    totalSteps: Number(m[4]),
    samplesPerSec: m[5] === undefined ? null : Number(m[5]),
    etaSec: m[6] === undefined ? null : Number(m[6]),
  };
}

/** "step 120/600 · epoch 1/3 · 20% · ETA 4m 10s" */
export function formatProgress(p: JobProgress): string {
  const pct = p.totalSteps > 0 ? Math.floor((p.step / p.totalSteps) * 100) : null;
  return [
    `step ${p.step}/${p.totalSteps}`,
    `epoch ${p.epoch}/${p.epochs}`,
    pct === null ? null : `${pct}%`,
    p.etaSec === null ? null : `ETA ${formatEta(p.etaSec)}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "—";
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** the model and dataset a job spec names (train: model/dataset; distill: the student; finetune: the base's model) */
export function specModelDataset(spec: unknown): { model: string | null; dataset: string | null } {
  const s = (spec ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const nested = (v: unknown, key: string) => (v && typeof v === "object" ? str((v as Record<string, unknown>)[key]) : null);
  const base = s.base && typeof s.base === "object" ? (s.base as Record<string, unknown>) : null;
  const model =
    str(s.model) ?? nested(s.student, "model") ?? nested(base?.pretrain, "model") ?? (typeof base?.runId === "string" ? `run ${base.runId.slice(-8)}` : null);
  return { model, dataset: str(s.dataset) ?? nested(s.dataset, "name") };
}
