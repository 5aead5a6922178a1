import { AppError, type CheckpointCommit, formatIssues, type JobReport, JobSpecSchema, type Lease, type RunStatus } from "@heron/core";
import { generateSecret, hashSecret } from "@heron/core/node";
import type { Database } from "@heron/db";

import type { BlobIndex } from "./artifacts/blob-index";
import { createCheckpointStore } from "./job-checkpoints";
import { createClaimer } from "./job-claim";
import type { Notifier } from "./notifier";
import { createPipelineService, STAGE_TX } from "./pipelines";
import type { ProjectService } from "./projects";
import type { RunService } from "./runs";

/** `blobs`: where checkpoint files are stored (services/artifacts/blob-index.ts) */
export type JobServiceOptions = { leaseTtlMs: number; blobs: BlobIndex };
type Held = { jobId: string; fencingToken: number };

/**
 * The job queue: submit → queued; a runner's claim grants a lease (attempt, fencing token,
 * expiry) → running; heartbeats extend it; an expired lease marks the attempt lost and
 * requeues. Every runner write carries the fencing token and is refused when it is stale.
 * Statuses: queued, running, succeeded, failed (the code), cancelled; `lost` (the
 * infrastructure) is per attempt, in JobAttempt and JobEvent. See docs/jobs.md.
 */
// Long because it is one object literal: the queue's operations (submit, claim, heartbeat, report,
// cancel, retry, expire…), each short, sharing the prisma client, the notifier and `event()`.
export function createJobService(db: Database, projects: ProjectService, runs: RunService, notifier: Notifier, opts: JobServiceOptions) {
  const prisma = db.prisma;
  const claimNext = createClaimer(db);
  const checkpoints = createCheckpointStore(prisma, opts.blobs);
  const pipelines = createPipelineService(prisma, notifier);

  async function event(jobId: string, type: string, attempt: number, message?: string) {
    await prisma.jobEvent.create({ data: { jobId, type, attempt, message: message ?? null } });
  }
  /** `client`: the transaction that ends the job, so no reader sees the job ended and its attempt still running */
  async function endAttempt(
    client: Pick<typeof prisma, "jobAttempt">,
    jobId: string,
    attempt: number,
    status: string,
    extra: { exitCode?: number | null; error?: string | null } = {},
  ) {
    await client.jobAttempt.updateMany({
      where: { jobId, attempt, status: "running" },
      data: { status, endedAt: new Date(), exitCode: extra.exitCode ?? null, error: extra.error?.slice(-4000) ?? null },
    });
  }

  async function get(jobId: string) {
    const job = await prisma.job.findUnique({
      where: { id: jobId },
      include: { runner: { select: { name: true, hostname: true } }, project: { select: { name: true } }, attemptHistory: { orderBy: { attempt: "asc" } } },
    });
    if (!job) throw new AppError("NOT_FOUND", `job "${jobId}" not found`);
    const { jobTokenHash: _secret, ...rest } = job;
    return rest;
  }

  /** The job, if `runnerId` holds its current lease; otherwise the write is refused. */
  async function assertLease(runnerId: string, l: Held) {
    const job = await prisma.job.findUnique({ where: { id: l.jobId } });
    if (!job) throw new AppError("NOT_FOUND", `job "${l.jobId}" not found`);
    if (job.runnerId !== runnerId || job.fencingToken !== l.fencingToken || job.status !== "running") {
      throw new AppError("CONFLICT", `stale fencing token for job ${l.jobId}: this runner does not hold its current lease`);
    }
    return job;
  }

  /** Why a claim found nothing: refused (revoked, slots full) or simply an empty queue. */
  async function checkRunner(runnerId: string) {
    const runner = await prisma.runner.findUnique({ where: { id: runnerId } });
    if (!runner || runner.revokedAt) throw new AppError("UNAUTHORIZED", "unknown or revoked runner");
    return runner;
  }

  return {
    leaseTtlMs: opts.leaseTtlMs,
    get,
    assertLease,
    pipelines,
    async submit(
      projectIdOrName: string,
      rawSpec: unknown,
      /** `id`: the job's id chosen by the caller (the sweep controller names a trial's job before creating it) */
      options: { id?: string; queue?: string; priority?: number; maxAttempts?: number; group?: string; submittedBy?: string | null } = {},
    ) {
      const parsed = JobSpecSchema.safeParse(rawSpec);
      if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
      if (parsed.data.kind === "pipeline" || parsed.data.kind === "vlm")
        throw new AppError("BAD_REQUEST", `a ${parsed.data.kind} is submitted through job.submit, which creates its stage jobs`);
      assertNoStageInit(parsed.data);
      const project = await projects.get(projectIdOrName);
      const job = await prisma.job.create({
        data: {
          ...(options.id ? { id: options.id } : {}),
          projectId: project.id,
          spec: parsed.data as object,
          kind: parsed.data.kind,
          queue: options.queue ?? "default",
          priority: options.priority ?? 0,
          maxAttempts: options.maxAttempts ?? 3,
          group: options.group ?? null,
          submittedBy: options.submittedBy ?? null,
        },
      });
      await event(job.id, "queued", 0, `queue ${job.queue}, priority ${job.priority}`);
      notifier.workAvailable();
      return job;
    },
    /** `visibleProjectIds`: only jobs of these projects (null: every project) */
    async list(filter: { projectId?: string; status?: string; queue?: string; runnerId?: string; limit?: number; visibleProjectIds?: string[] | null }) {
      const jobs = await prisma.job.findMany({
        where: {
          ...(filter.projectId ? { projectId: filter.projectId } : filter.visibleProjectIds ? { projectId: { in: filter.visibleProjectIds } } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          ...(filter.queue ? { queue: filter.queue } : {}),
          // a pipeline is listed once (its stages are in job.get); a runner's jobs are its stages
          ...(filter.runnerId ? { runnerId: filter.runnerId } : { pipelineJobId: null }),
        },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: filter.limit ?? 200,
        include: { runner: { select: { name: true } }, project: { select: { name: true } } },
      });
      return jobs.map(({ jobTokenHash: _secret, ...j }) => j);
    },
    async events(jobId: string) {
      await get(jobId);
      return prisma.jobEvent.findMany({ where: { jobId }, orderBy: { id: "asc" } });
    },
    /** Grants the next job of the runner's queues, or null; refused past the runner's slots. */
    async claim(runnerId: string, queues: string[], allowCommands = false): Promise<Lease | null> {
      const jobToken = generateSecret("job");
      const expiresAt = new Date(Date.now() + opts.leaseTtlMs);
      const claimed = await claimNext({ runnerId, queues, jobTokenHash: hashSecret(jobToken), leaseExpiresAt: expiresAt, allowCommands });
      if (!claimed) {
        // nothing granted: say why when the runner was refused, not just an empty queue
        const runner = await checkRunner(runnerId);
        const busy = await prisma.job.count({ where: { runnerId, status: "running" } });
        if (runner.status !== "draining" && busy >= runner.slots)
          throw new AppError("CONFLICT", `runner holds ${busy} of ${runner.slots} slots; no free slot to claim into`);
        return null;
      }
      notifier.runStatus(claimed.runId, "running");
      return {
        jobId: claimed.id,
        runId: claimed.runId,
        projectName: claimed.projectName,
        attempt: claimed.attempt,
        fencingToken: claimed.fencingToken,
        expiresAt: expiresAt.getTime(),
        jobToken,
        spec: JobSpecSchema.parse(claimed.spec),
      };
    },
    /** A runner reports on a job it holds; refused unless it holds the current lease. */
    async report(runnerId: string, r: JobReport) {
      const job = await assertLease(runnerId, r);
      if (r.status === "running") {
        await pipelines.stageStarted(job);
        return event(job.id, "started", job.attempts);
      }
      const fenced = { id: job.id, fencingToken: r.fencingToken, status: "running" };
      if (r.status === "requeued") {
        // a drained runner stopped the job: not the code's fault, and it doesn't use up an attempt
        const u = await prisma.$transaction(async (tx) => {
          const u = await tx.job.updateMany({
            where: fenced,
            data: { status: "queued", runnerId: null, leaseExpiresAt: null, jobTokenHash: null, maxAttempts: job.maxAttempts + 1 },
          });
          if (u.count) await endAttempt(tx, job.id, job.attempts, "requeued");
          return u;
        });
        if (u.count === 0) throw new AppError("CONFLICT", `stale fencing token for job ${r.jobId}`);
        await event(job.id, "requeued", job.attempts, "runner drained; the job resumes on the next free runner");
        notifier.revokeJob(job.id, job.fencingToken);
        notifier.workAvailable();
        return;
      }
      const status = r.status === "cancelled" || job.cancelRequested ? "cancelled" : r.status;
      const error = r.error?.slice(-100_000) ?? null;
      // a stage's end advances its pipeline in the same transaction: exactly once, on any server
      const u = await prisma.$transaction(async (tx) => {
        const u = await tx.job.updateMany({
          where: fenced,
          data: { status, finishedAt: new Date(), exitCode: r.exitCode ?? null, error, leaseExpiresAt: null, jobTokenHash: null },
        });
        if (u.count) {
          await endAttempt(tx, job.id, job.attempts, status, { exitCode: r.exitCode, error });
          await pipelines.stageEnded(tx, job, status, error);
        }
        return u;
      }, STAGE_TX);
      if (u.count === 0) throw new AppError("CONFLICT", `stale fencing token for job ${r.jobId}`);
      await event(job.id, status, job.attempts, status === "failed" ? `exit code ${r.exitCode ?? "none"}` : undefined);
      notifier.revokeJob(job.id, job.fencingToken);
      if (job.runId) {
        let run = await prisma.run.findUnique({ where: { id: job.runId } });
        // the job's SDK normally finishes its run; if the process died first, say how it ended
        if (run && (run.status === "running" || run.status === "stale")) {
          run = await runs.finish(job.runId, status === "succeeded" ? "finished" : status === "cancelled" ? "aborted" : "crashed", error?.slice(-4000));
        }
        // watchers get the run's status (finished, aborted, crashed), not the job's
        if (run) notifier.runStatus(job.runId, run.status as RunStatus);
      }
      notifier.workAvailable();
    },
    /** Extends the leases this runner still holds; returns the stale ones and those to cancel. */
    async heartbeat(runnerId: string, leases: Held[]) {
      // a revoked runner's leases are no longer extended: they expire and requeue elsewhere
      const alive = await prisma.runner.updateMany({ where: { id: runnerId, revokedAt: null }, data: { lastHeartbeatAt: new Date() } });
      if (alive.count === 0) throw new AppError("UNAUTHORIZED", "unknown or revoked runner");
      await prisma.runner.updateMany({ where: { id: runnerId, status: "offline" }, data: { status: "online" } });
      const stale: string[] = [];
      const expiresAt = new Date(Date.now() + opts.leaseTtlMs);
      for (const l of leases) {
        const r = await prisma.job.updateMany({
          where: { id: l.jobId, runnerId, fencingToken: l.fencingToken, status: "running" },
          data: { leaseExpiresAt: expiresAt },
        });
        if (r.count === 0) stale.push(l.jobId);
      }
      const live = leases.filter((l) => !stale.includes(l.jobId)).map((l) => l.jobId);
      const cancel = live.length
        ? (await prisma.job.findMany({ where: { id: { in: live }, cancelRequested: true }, select: { id: true } })).map((j) => j.id)
        : [];
      return { stale, cancel };
    },
    /** Expired leases: the attempt is lost (infrastructure); requeue, or fail after maxAttempts. */
    async expireLeases(now = new Date()) {
      const expired = await prisma.job.findMany({ where: { status: "running", leaseExpiresAt: { lt: now } } });
      let n = 0;
      for (const job of expired) {
        const requeue = job.attempts < job.maxAttempts && !job.cancelRequested;
        const error = `lease expired on attempt ${job.attempts} (runner lost)`;
        // fenced: with several server processes sweeping, exactly one of them wins each lease
        const ended = job.cancelRequested ? "cancelled" : "failed";
        const r = await prisma.$transaction(async (tx) => {
          const r = await tx.job.updateMany({
            where: { id: job.id, fencingToken: job.fencingToken, status: "running", leaseExpiresAt: { lt: now } },
            data: requeue
              ? { status: "queued", runnerId: null, leaseExpiresAt: null, jobTokenHash: null }
              : { status: ended, finishedAt: now, leaseExpiresAt: null, jobTokenHash: null, error },
          });
          if (r.count) await endAttempt(tx, job.id, job.attempts, "lost", { error });
          if (r.count && !requeue) await pipelines.stageEnded(tx, job, ended, error);
          return r;
        }, STAGE_TX);
        if (r.count === 0) continue;
        n++;
        notifier.revokeJob(job.id, job.fencingToken);
        await event(job.id, "lost", job.attempts, "heartbeat lost: lease expired");
        if (requeue)
          await event(job.id, "requeued", job.attempts, `attempt ${job.attempts + 1} of at most ${job.maxAttempts} resumes from the last checkpoint`);
        else if (job.runId) {
          const state = job.cancelRequested ? "aborted" : "crashed";
          await runs.finish(job.runId, state, error);
          notifier.runStatus(job.runId, state);
        }
      }
      if (n) notifier.workAvailable();
      return n;
    },
    async cancel(jobId: string) {
      const job = await get(jobId);
      // a pipeline, or any of its stages: what is left of the pipeline stops
      const pipelineJobId = job.kind === "pipeline" ? job.id : job.pipelineJobId;
      if (pipelineJobId) {
        await pipelines.cancel(pipelineJobId);
        return get(jobId);
      }
      const queued =
        job.status === "queued" &&
        (await prisma.job.updateMany({ where: { id: jobId, status: "queued" }, data: { status: "cancelled", finishedAt: new Date() } })).count > 0;
      if (queued) {
        await event(jobId, "cancelled", job.attempts, "cancelled while queued");
        // a queued job may already have a run (a fork's, made at fork time; a requeued attempt's): it ends here too
        const run = job.runId ? await prisma.run.findUnique({ where: { id: job.runId }, select: { status: true } }) : null;
        if (run && (run.status === "running" || run.status === "stale")) {
          await runs.finish(job.runId!, "aborted", "its job was cancelled while queued");
          notifier.runStatus(job.runId!, "aborted");
        }
        return get(jobId);
      }
      // running (or claimed between our read and the update above): ask its runner to stop it
      const u = await prisma.job.updateMany({ where: { id: jobId, status: "running" }, data: { cancelRequested: true } });
      if (u.count === 0) throw new AppError("CONFLICT", `job ${jobId} is ${job.status}; only queued or running jobs can be cancelled`);
      const running = await get(jobId);
      await event(jobId, "cancel-requested", running.attempts);
      // reaches the runner through its room, on whichever server process it is connected to
      if (running.runnerId) notifier.cancelJob(running.runnerId, jobId);
      return running;
    },
    async retry(jobId: string) {
      const job = await get(jobId);
      if (!["failed", "cancelled"].includes(job.status))
        throw new AppError("CONFLICT", `job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`);
      if (job.kind === "pipeline" || job.pipelineJobId)
        throw new AppError(
          "CONFLICT",
          `job ${jobId} is ${job.kind === "pipeline" ? "a pipeline" : "a pipeline stage"}; submit the pipeline again instead of retrying it`,
        );
      await prisma.job.update({
        where: { id: jobId },
        data: {
          status: "queued",
          cancelRequested: false,
          maxAttempts: job.attempts + Math.max(1, job.maxAttempts - job.attempts, 3),
          runnerId: null,
          finishedAt: null,
        },
      });
      await event(jobId, "retried", job.attempts);
      notifier.workAvailable();
      return get(jobId);
    },
    /** A resumed attempt drops the run's points after its checkpoint's step (charts continue from it). */
    async rewind(runnerId: string, l: Held & { step: number }) {
      const job = await assertLease(runnerId, l);
      if (!job.runId) throw new AppError("CONFLICT", `job ${l.jobId} has no run yet`);
      const { deleted } = await runs.rewind(job.runId, l.step);
      await event(job.id, "rewound", job.attempts, `run ${job.runId} continues after step ${l.step} (${deleted} later points dropped)`);
      return { deleted };
    },
    /** the checkpoint store itself, for reads that hold no lease (the runner handlers' source access, job submission) */
    checkpointStore: checkpoints,
    checkpoints: {
      /** what job.checkpoints shows: every stored checkpoint with its files and tensor names */
      async list(jobId: string) {
        await get(jobId);
        return checkpoints.list(jobId);
      },
      async putChunk(runnerId: string, c: Held & { step: number; file: string; index: number; data: Uint8Array }) {
        const job = await assertLease(runnerId, c);
        await checkpoints.putChunk(job.id, job.attempts, c.step, c.file, c.index, c.data);
      },
      async commit(runnerId: string, c: CheckpointCommit) {
        const job = await assertLease(runnerId, c);
        const { newest } = await checkpoints.commit(job.id, c);
        await prisma.job.updateMany({ where: { id: job.id, fencingToken: c.fencingToken }, data: { checkpointStep: newest } });
        await event(job.id, "checkpoint", job.attempts, `step ${c.step} stored on the server`);
      },
      async latest(runnerId: string, l: Held) {
        await assertLease(runnerId, l);
        return checkpoints.latest(l.jobId);
      },
      async read(runnerId: string, l: Held & { step: number; file: string; index: number }) {
        await assertLease(runnerId, l);
        return checkpoints.read(l.jobId, l.step, l.file, l.index);
      },
    },
  };
}
export type JobService = ReturnType<typeof createJobService>;

/**
 * `init.fromStage`, `init.jobId` and `init.sources` (and a teacher/base `{fromStage, jobId}`)
 * name other jobs whose checkpoints a runner may then download: only the server sets them, on
 * the stage jobs of a pipeline it creates.
 */
function assertNoStageInit(spec: unknown) {
  const init = (spec as { init?: { fromStage?: unknown; jobId?: unknown; sources?: unknown } }).init;
  if (init && (init.fromStage !== undefined || init.jobId !== undefined || init.sources !== undefined))
    throw new AppError(
      "BAD_REQUEST",
      'init.fromStage, init.jobId and init.sources belong to the stages of a pipeline (kind "pipeline"); a single job cannot start from another job this way',
    );
  const s = spec as { kind?: unknown; teacher?: { fromStage?: unknown }; base?: { fromStage?: unknown } };
  const field = s.kind === "distill" ? "teacher" : s.kind === "finetune" ? "base" : null;
  if (field && s[field]?.fromStage !== undefined)
    throw new AppError(
      "BAD_REQUEST",
      `${field}.fromStage names an earlier stage of a pipeline (kind "pipeline"); a single job takes its ${field} from {runId} or {artifact}`,
    );
}
