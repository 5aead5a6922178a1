import { type JobProgress, parseProgressLine } from "../../lib/job-progress";
import type { Services } from "./index";

/** The newest `[progress]` line of each run's log, parsed (runs without one are left out). */
export async function latestProgress(services: Services, runIds: string[]): Promise<Record<string, JobProgress & { at: Date }>> {
  const out: Record<string, JobProgress & { at: Date }> = {};
  // one indexed lookup per run ([runId, id] index): the jobs table asks only for running jobs
  for (const runId of new Set(runIds)) {
    const line = await services.prisma.logLine.findFirst({
      where: { runId, line: { startsWith: "[progress]" } },
      orderBy: { id: "desc" },
      select: { line: true, ts: true },
    });
    const p = line ? parseProgressLine(line.line) : null;
    if (p && line) out[runId] = { ...p, at: line.ts };
  }
  return out;
}

/**
 * Why a run ended the way it did, in words, when its job says more than its status: a run is
 * "aborted" when its job was cancelled (by whom: the audit log), "crashed" when it failed.
 */
export async function explainRunStatus(services: Services, run: { status: string; jobId: string | null; error: string | null }): Promise<string | null> {
  if (!run.jobId || !["aborted", "crashed"].includes(run.status)) return null;
  const job = await services.prisma.job.findUnique({ where: { id: run.jobId }, select: { status: true, attempts: true, maxAttempts: true, exitCode: true } });
  if (!job) return null;
  if (run.status === "aborted" && job.status === "cancelled") {
    const by = await services.prisma.auditEvent.findFirst({ where: { action: "job.cancelled", target: `job:${run.jobId}` }, orderBy: { id: "desc" } });
    const who = by ? (by.actorLabel ?? by.actor) : null;
    return `aborted: its job was cancelled${who ? ` by ${who}` : ""}`;
  }
  if (job.status === "failed")
    return `crashed: its job failed after ${job.attempts} of ${job.maxAttempts} attempt${job.maxAttempts === 1 ? "" : "s"}${job.exitCode !== null ? ` (exit code ${job.exitCode})` : ""}`;
  return null;
}
