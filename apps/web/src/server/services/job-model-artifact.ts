import type { ArtifactVersionInfo } from "@heron/core";
import type { PrismaClient } from "@heron/db";
import type { Logger } from "pino";

import { LOCAL_PRINCIPAL } from "../auth/principal";
import type { ArtifactService } from "./artifacts";
import { modelOfSpec } from "./distill-submit";
import type { Notifier } from "./notifier";

/** job kinds whose final checkpoint is a model worth keeping */
const MODEL_KINDS = new Set(["train", "distill", "finetune"]);

type Deps = { prisma: PrismaClient; artifacts: ArtifactService; log?: Logger };
type Json = Record<string, unknown>;

/** `<run name>-model`, made a valid artifact name (run names may hold spaces and more) */
export function defaultModelArtifactName(runName: string): string {
  const base = runName
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 120);
  return `${base || "run"}-model`;
}

/**
 * Logs a succeeded train/distill/fine-tune job's final model — its newest stored checkpoint
 * — as a version of a `model` artifact in its project: named by the spec's `artifact.name`,
 * else `<run name>-model`; produced by the job's run (lineage run → artifact); metadata
 * {kind, model, dataset, step, jobId, runId}. The checkpoint's files become the version's
 * files by digest: the checkpoint's blobs are shared, no bytes are copied.
 * Idempotent per job (one clientKey), so a repeated report or a second server process
 * logs one version. Returns null when the job is not such a job or kept no checkpoint.
 */
export async function logJobModel(deps: Deps, jobId: string): Promise<ArtifactVersionInfo | null> {
  const { prisma, artifacts } = deps;
  const job = await prisma.job.findUnique({ where: { id: jobId } });
  if (!job || job.status !== "succeeded" || !MODEL_KINDS.has(job.kind) || !job.runId) return null;
  const run = await prisma.run.findUnique({ where: { id: job.runId }, select: { name: true } });
  const ck = await prisma.jobCheckpoint.findFirst({ where: { jobId, complete: true }, orderBy: { step: "desc" }, include: { blobFiles: true } });
  if (!run || !ck || ck.blobFiles.length === 0) return null;
  const files = ck.blobFiles.map((f) => ({ path: f.name, digest: f.digest, bytes: f.bytes }));
  const spec = job.spec as Json;
  const out = spec.artifact as { name?: unknown } | undefined;
  const name = typeof out?.name === "string" ? out.name : defaultModelArtifactName(run.name);
  const model = spec.kind === "finetune" && spec.task === "text" ? "char-transformer" : modelOfSpec(spec);
  return artifacts.commit(LOCAL_PRINCIPAL, job.projectId, {
    projectId: job.projectId,
    name,
    type: "model",
    files,
    description: `final checkpoint (step ${ck.step}) of ${job.kind} job ${job.id}`,
    metadata: { kind: job.kind, model, dataset: typeof spec.dataset === "string" ? spec.dataset : null, step: ck.step, jobId: job.id, runId: job.runId },
    runId: job.runId,
    jobId: job.id,
    clientKey: `job-model-${job.id}`,
  });
}

/**
 * Logs each job's model when its run is reported finished: wraps `notifier.runStatus`, which
 * the job service calls after a runner reports the job (its final checkpoint is uploaded by
 * then). In the background: a failure is logged, never fails the report.
 */
export function watchFinishedJobs<N extends Notifier>(notifier: N, deps: () => Deps): N {
  const runStatus = notifier.runStatus.bind(notifier);
  notifier.runStatus = (runId, status) => {
    runStatus(runId, status);
    if (status !== "finished") return;
    const d = deps();
    void (async () => {
      const run = await d.prisma.run.findUnique({ where: { id: runId }, select: { jobId: true } });
      if (run?.jobId) await logJobModel(d, run.jobId);
    })().catch((err: unknown) => d.log?.warn({ runId, err: err instanceof Error ? err.message : String(err) }, "could not log the job's model artifact"));
  };
  return notifier;
}
