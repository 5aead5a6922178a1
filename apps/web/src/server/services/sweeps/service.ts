import { AppError, formatIssues, JobSpecSchema, parameterImportance, SweepSpecSchema, sweepTrialCount, validateSweepTrials } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { JobService } from "../jobs";
import type { ProjectService } from "../projects";
import { bestTrial, reportsOf, storedSweep, type SweepStatus } from "./trials";

/** Wakes the controller of this process (its turn comes at once instead of at the next tick). */
export type Wake = () => void;

/**
 * Sweeps as users see them: create (validated, stored; the controller queues the trials),
 * read, pause/resume (no new trials while paused; running ones finish), cancel (queued and
 * running trials are cancelled; finished trials keep their runs).
 */
// Long because it is one object literal: create, get, list, pause, resume, cancel over the
// same stored sweep rows, each short.
export function createSweepService(prisma: PrismaClient, projects: ProjectService, jobs: JobService, wake: Wake) {
  async function row(sweepId: string) {
    const sweep = await prisma.sweep.findUnique({ where: { id: sweepId } });
    if (!sweep) throw new AppError("NOT_FOUND", `sweep "${sweepId}" not found`);
    return sweep;
  }

  async function setStatus(sweepId: string, from: SweepStatus[], to: SweepStatus) {
    const sweep = await row(sweepId);
    const u = await prisma.sweep.updateMany({
      where: { id: sweepId, status: { in: from } },
      data: { status: to, ...(to === "cancelled" ? { finishedAt: new Date() } : {}) },
    });
    if (u.count === 0) throw new AppError("CONFLICT", `sweep ${sweepId} is ${sweep.status}; only a ${from.join(" or ")} sweep can be set ${to}`);
    wake();
    return { sweepId, status: to };
  }

  return {
    async create(projectIdOrName: string, raw: unknown, submittedBy: string | null) {
      const parsed = SweepSpecSchema.safeParse(raw);
      if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid sweep: ${formatIssues(parsed.error.issues)}`);
      const sweep = parsed.data;
      // every trial must be a valid job before anything is queued: a bad path or range is refused here, naming the field
      validateSweepTrials(sweep, (s) => {
        const r = JobSpecSchema.safeParse(s);
        return r.success ? null : formatIssues(r.error.issues);
      });
      const project = await projects.get(projectIdOrName);
      const created = await prisma.sweep.create({ data: { projectId: project.id, spec: sweep as object, method: sweep.method, submittedBy } });
      wake();
      return { sweepId: created.id };
    },

    async list(projectIdOrName: string) {
      const project = await projects.get(projectIdOrName);
      const sweeps = await prisma.sweep.findMany({
        where: { projectId: project.id },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: 500,
        include: { trials: { select: { status: true, metric: true, index: true, runId: true } } },
      });
      return sweeps.map((s) => {
        const spec = storedSweep(s.spec);
        const best = bestTrial(s.trials, spec.metric.goal);
        const count = (status: string) => s.trials.filter((t) => t.status === status).length;
        return {
          id: s.id,
          method: s.method,
          status: s.status,
          metric: spec.metric,
          createdAt: s.createdAt,
          finishedAt: s.finishedAt,
          totalTrials: sweepTrialCount(spec),
          trials: {
            created: s.trials.length,
            running: count("running"),
            completed: count("completed"),
            pruned: count("pruned"),
            failed: count("failed") + count("cancelled"),
          },
          best: best ? { runId: best.runId, metric: best.metric } : null,
        };
      });
    },

    async get(sweepId: string) {
      const s = await row(sweepId);
      const spec = storedSweep(s.spec);
      const trials = await prisma.sweepTrial.findMany({ where: { sweepId }, orderBy: { index: "asc" } });
      const jobIds = trials.map((t) => t.jobId).filter((id): id is string => id !== null);
      const jobRows = jobIds.length
        ? await prisma.job.findMany({ where: { id: { in: jobIds } }, select: { id: true, status: true, startedAt: true, finishedAt: true, attempts: true } })
        : [];
      const byJob = new Map(jobRows.map((j) => [j.id, j]));
      const now = Date.now();
      const out = trials.map((t) => {
        const job = t.jobId ? byJob.get(t.jobId) : undefined;
        const started = job?.startedAt?.getTime();
        return {
          index: t.index,
          jobId: t.jobId,
          runId: t.runId,
          params: t.params as Record<string, unknown>,
          status: t.status,
          metric: t.metric,
          jobStatus: job?.status ?? null,
          attempts: job?.attempts ?? 0,
          reports: reportsOf(t),
          pruneReason: t.pruneReason,
          durationMs: started === undefined ? null : (job?.finishedAt?.getTime() ?? t.finishedAt?.getTime() ?? now) - started,
          createdAt: t.createdAt,
          finishedAt: t.finishedAt,
        };
      });
      const best = bestTrial(out, spec.metric.goal);
      const scored = out.filter((t) => (t.status === "completed" || t.status === "pruned") && t.metric !== null);
      return {
        id: s.id,
        projectId: s.projectId,
        status: s.status,
        sweep: spec,
        totalTrials: sweepTrialCount(spec),
        createdAt: s.createdAt,
        finishedAt: s.finishedAt,
        trials: out,
        best: best ? { runId: best.runId, params: best.params, metric: best.metric as number } : null,
        importance: parameterImportance(
          spec,
          scored.map((t) => ({ params: t.params as never, value: t.metric as number })),
        ),
      };
    },

    pause: (sweepId: string) => setStatus(sweepId, ["running"], "paused"),
    resume: (sweepId: string) => setStatus(sweepId, ["paused"], "running"),

    async cancel(sweepId: string) {
      const result = await setStatus(sweepId, ["running", "paused"], "cancelled");
      const active = await prisma.sweepTrial.findMany({ where: { sweepId, status: "running", jobId: { not: null } }, select: { jobId: true } });
      for (const t of active) {
        // a job that ended meanwhile is simply not cancelled; the controller records how it ended
        await jobs.cancel(t.jobId as string).catch((err: unknown) => {
          if (!(err instanceof AppError) || err.code !== "CONFLICT") throw err;
        });
      }
      wake();
      return result;
    },
  };
}
export type SweepService = ReturnType<typeof createSweepService>;
