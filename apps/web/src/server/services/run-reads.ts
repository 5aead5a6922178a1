import { AppError, type CompareQuery } from "@heron/core";

import type { Services } from "./index";
import { explainRunStatus, latestProgress } from "./job-progress";
import { forkAwareKeys } from "./run-fork-series";

/** a run with its project's name, its metric keys (a fork's include its parent's) and a summary per key (count, first/last step, min/max/last) */
export async function getRunDetails(services: Services, runId: string) {
  const run = await services.runs.get(runId);
  // a fork's charts start with its parent's history: its keys too
  const keys = await forkAwareKeys(services, runId);
  const summary = (await services.metrics.summaries([runId]))[runId] ?? {};
  // a job's run: its training progress (from the job log) and why it ended, for the run header
  const progress = run.jobId ? ((await latestProgress(services, [runId]))[runId] ?? null) : null;
  const statusReason = await explainRunStatus(services, run);
  return { ...run, projectName: run.project.name, keys, metrics: summary, progress, statusReason };
}

/** `{ runId, series }` per requested run, in request order; every run must exist */
export async function compareRunSeries(services: Services, input: CompareQuery) {
  const found = await services.prisma.run.findMany({ where: { id: { in: input.runIds } }, select: { id: true } });
  const missing = input.runIds.filter((id) => !found.some((r) => r.id === id));
  if (missing.length) throw new AppError("NOT_FOUND", `run "${missing[0]}" not found`);
  const series = await services.metrics.compare(input);
  return series.map((s) => ({ runId: s.runId!, series: s }));
}
