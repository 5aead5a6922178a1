import { AppError, JobSpecSchema, formatIssues, type JobReport, type Lease } from "@heron/core";
import { generateSecret, hashSecret } from "@heron/core/node";
import type { Database } from "@heron/db";
import type { Notifier } from "./notifier";
import type { ProjectService } from "./projects";
import type { RunService } from "./runs";

export type JobServiceOptions = { leaseTtlMs: number };

/**
 * The job queue: submit → queued; a runner's claim grants a lease (attempt, fencing token,
 * expiry) → running; heartbeats extend it; an expired lease marks the attempt lost and
 * requeues. Every runner write carries the fencing token and is refused when it is stale.
 */
export function createJobService(db: Database, projects: ProjectService, runs: RunService, notifier: Notifier, opts: JobServiceOptions) {
  const prisma = db.prisma;

  async function event(jobId: string, type: string, attempt: number, message?: string) {
    await prisma.jobEvent.create({ data: { jobId, type, attempt, message: message ?? null } });
  }

  async function get(jobId: string) {
    const job = await prisma.job.findUnique({ where: { id: jobId }, include: { runner: { select: { name: true, hostname: true } } } });
    if (!job) throw new AppError("NOT_FOUND", `job "${jobId}" not found`);
    return job;
  }

  /** One statement claims one job atomically (SKIP LOCKED on PostgreSQL; SQLite serialises writers). */
  async function claimOne(runnerId: string, queues: string[]): Promise<{ id: string; fencingToken: number } | null> {
    const placeholders = queues.map((_, i) => (db.provider === "postgres" ? `$${i + 2}` : "?")).join(",");
    const pick =
      db.provider === "postgres"
        ? `SELECT "id" FROM "Job" WHERE "status"='queued' AND "queue" IN (${placeholders}) ORDER BY "priority" DESC, "createdAt" ASC, "id" ASC LIMIT 1 FOR UPDATE SKIP LOCKED`
        : `SELECT "id" FROM "Job" WHERE "status"='queued' AND "queue" IN (${placeholders}) ORDER BY "priority" DESC, "createdAt" ASC, "id" ASC LIMIT 1`;
    const sql = `UPDATE "Job" SET "status"='running', "fencingToken"="fencingToken"+1, "attempts"="attempts"+1, "runnerId"=${db.provider === "postgres" ? "$1" : "?"} WHERE "id" = (${pick}) AND "status"='queued' RETURNING "id", "fencingToken"`;
    const rows = await prisma.$queryRawUnsafe<{ id: string; fencingToken: number | bigint }[]>(sql, runnerId, ...queues);
    const row = rows[0];
    return row ? { id: row.id, fencingToken: Number(row.fencingToken) } : null;
  }

  return {
    get,
    async submit(projectIdOrName: string, rawSpec: unknown, options: { queue?: string; priority?: number; maxAttempts?: number; group?: string } = {}) {
      const parsed = JobSpecSchema.safeParse(rawSpec);
      if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid job spec: ${formatIssues(parsed.error.issues)}`);
      const project = await projects.get(projectIdOrName);
      const job = await prisma.job.create({
        data: { projectId: project.id, spec: parsed.data as object, kind: parsed.data.kind, queue: options.queue ?? "default", priority: options.priority ?? 0, maxAttempts: options.maxAttempts ?? 3, group: options.group ?? null },
      });
      await event(job.id, "queued", 0);
      notifier.workAvailable();
      return job;
    },
    async list(filter: { projectId?: string; status?: string; queue?: string; limit?: number }) {
      return prisma.job.findMany({
        where: { ...(filter.projectId ? { projectId: filter.projectId } : {}), ...(filter.status ? { status: filter.status } : {}), ...(filter.queue ? { queue: filter.queue } : {}) },
        orderBy: { createdAt: "desc" },
        take: filter.limit ?? 200,
        include: { runner: { select: { name: true } }, project: { select: { name: true } } },
      });
    },
    async events(jobId: string) {
      await get(jobId);
      return prisma.jobEvent.findMany({ where: { jobId }, orderBy: { id: "asc" } });
    },
    async claim(runnerId: string): Promise<Lease | null> {
      const runner = await prisma.runner.findUnique({ where: { id: runnerId } });
      if (!runner || runner.revokedAt) throw new AppError("UNAUTHORIZED", "unknown or revoked runner");
      if (runner.status === "draining") return null;
      const busy = await prisma.job.count({ where: { runnerId, status: "running" } });
      if (busy >= runner.slots) throw new AppError("CONFLICT", `runner holds ${busy} of ${runner.slots} slots; no free slot to claim into`);
      const queues = (runner.queues as string[] | null) ?? ["default"];
      const claimed = await claimOne(runnerId, queues);
      if (!claimed) return null;
      const job = await get(claimed.id);
      const jobToken = generateSecret("job");
      const expiresAt = new Date(Date.now() + opts.leaseTtlMs);
      let runId = job.runId;
      if (!runId) {
        const spec = job.spec as Record<string, unknown>;
        const run = await runs.createForJob(job.projectId, `${String(spec.kind)}-${job.id.slice(-6)}`, spec, job.group);
        runId = run.id;
      }
      await prisma.job.update({
        where: { id: job.id, fencingToken: claimed.fencingToken },
        data: { runId, jobTokenHash: hashSecret(jobToken), leaseExpiresAt: expiresAt, startedAt: job.startedAt ?? new Date(), error: null, exitCode: null },
      });
      await prisma.run.update({ where: { id: runId }, data: { jobId: job.id, status: "running", finishedAt: null } });
      await event(job.id, "leased", job.attempts, `runner ${runner.name}`);
      const project = await prisma.project.findUniqueOrThrow({ where: { id: job.projectId } });
      return {
        jobId: job.id,
        runId,
        projectName: project.name,
        attempt: job.attempts,
        fencingToken: claimed.fencingToken,
        expiresAt: expiresAt.getTime(),
        jobToken,
        spec: JobSpecSchema.parse(job.spec),
      };
    },
    /** A runner reports on a job it holds; refused unless it holds the current lease. */
    async report(runnerId: string, r: JobReport) {
      const job = await get(r.jobId);
      if (job.runnerId !== runnerId || job.fencingToken !== r.fencingToken || job.status !== "running") {
        throw new AppError("CONFLICT", `stale fencing token for job ${r.jobId}: this runner does not hold its current lease`);
      }
      if (r.status === "running") {
        await event(job.id, "started", job.attempts);
        return;
      }
      const status = r.status === "cancelled" || job.cancelRequested ? "cancelled" : r.status;
      const updated = await prisma.job.updateMany({
        where: { id: job.id, fencingToken: r.fencingToken, status: "running" },
        data: { status, finishedAt: new Date(), exitCode: r.exitCode ?? null, error: r.error ?? null, leaseExpiresAt: null, jobTokenHash: null },
      });
      if (updated.count === 0) throw new AppError("CONFLICT", `stale fencing token for job ${r.jobId}`);
      await event(job.id, status, job.attempts, r.error?.slice(-2000));
      if (job.runId) {
        const run = await prisma.run.findUnique({ where: { id: job.runId } });
        // the job's SDK normally finishes its run; if the process died first, say how it ended
        if (run && (run.status === "running" || run.status === "stale")) {
          await runs.finish(job.runId, status === "succeeded" ? "finished" : status === "cancelled" ? "aborted" : "crashed", r.error?.slice(-4000));
        }
        notifier.runStatus(job.runId, status);
      }
      notifier.workAvailable();
    },
    async heartbeat(runnerId: string, leases: { jobId: string; fencingToken: number }[]) {
      await prisma.runner.update({ where: { id: runnerId }, data: { lastHeartbeatAt: new Date(), status: "online" } });
      const stale: string[] = [];
      const expiresAt = new Date(Date.now() + opts.leaseTtlMs);
      for (const l of leases) {
        const r = await prisma.job.updateMany({ where: { id: l.jobId, runnerId, fencingToken: l.fencingToken, status: "running" }, data: { leaseExpiresAt: expiresAt } });
        if (r.count === 0) stale.push(l.jobId);
      }
      return stale;
    },
    /** Expired leases: the attempt is lost (infrastructure); requeue, or fail after maxAttempts. */
    async expireLeases(now = new Date()) {
      const expired = await prisma.job.findMany({ where: { status: "running", leaseExpiresAt: { lt: now } } });
      for (const job of expired) {
        const requeue = job.attempts < job.maxAttempts && !job.cancelRequested;
        const r = await prisma.job.updateMany({
          where: { id: job.id, fencingToken: job.fencingToken, status: "running" },
          data: requeue
            ? { status: "queued", runnerId: null, leaseExpiresAt: null, jobTokenHash: null }
            : { status: job.cancelRequested ? "cancelled" : "failed", finishedAt: now, leaseExpiresAt: null, jobTokenHash: null, error: `lease expired on attempt ${job.attempts} (runner lost)` },
        });
        if (r.count === 0) continue;
        await event(job.id, "lost", job.attempts, "heartbeat lost: lease expired");
        if (requeue) await event(job.id, "requeued", job.attempts + 1);
        else if (job.runId) await runs.finish(job.runId, "crashed", `lease expired on attempt ${job.attempts}`);
      }
      if (expired.length) notifier.workAvailable();
      return expired.length;
    },
    async cancel(jobId: string) {
      const job = await get(jobId);
      if (job.status === "queued") {
        await prisma.job.update({ where: { id: jobId }, data: { status: "cancelled", finishedAt: new Date() } });
        await event(jobId, "cancelled", job.attempts, "cancelled while queued");
      } else if (job.status === "running") {
        await prisma.job.update({ where: { id: jobId }, data: { cancelRequested: true } });
        await event(jobId, "cancel-requested", job.attempts);
        if (job.runnerId) notifier.cancelJob(job.runnerId, jobId);
      } else {
        throw new AppError("CONFLICT", `job ${jobId} is ${job.status}; only queued or running jobs can be cancelled`);
      }
      return get(jobId);
    },
    async retry(jobId: string) {
      const job = await get(jobId);
      if (!["failed", "cancelled"].includes(job.status)) throw new AppError("CONFLICT", `job ${jobId} is ${job.status}; only failed or cancelled jobs can be retried`);
      await prisma.job.update({ where: { id: jobId }, data: { status: "queued", cancelRequested: false, maxAttempts: job.attempts + 3, runnerId: null, finishedAt: null } });
      await event(jobId, "retried", job.attempts);
      notifier.workAvailable();
      return get(jobId);
    },
  };
}
export type JobService = ReturnType<typeof createJobService>;
