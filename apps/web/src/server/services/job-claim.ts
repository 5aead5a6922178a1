// The claim: the one hot write of the queue. It never takes a pipeline (its stages are the
// jobs) nor a stage that waits for its predecessor (status 'waiting'). It is done in raw SQL, in ONE atomic step per
// provider, because it runs once per job start and Prisma's per-query overhead (~8 queries
// before) capped the queue at a few hundred claims/s.
//   PostgreSQL: one statement (data-modifying CTEs) around `FOR UPDATE SKIP LOCKED`, so
//     concurrent claims from many server processes never block on, or double-grant, a row.
//   SQLite: one synchronous better-sqlite3 write transaction (BEGIN IMMEDIATE): writers are
//     serialised by the database, and nothing else in this process runs in between.
import crypto from "node:crypto";

import { type Database, withoutBusyWait } from "@heron/db";
import type { Statement as SqliteStatement } from "better-sqlite3";

export type ClaimInput = {
  runnerId: string;
  queues: string[];
  jobTokenHash: string;
  leaseExpiresAt: Date;
  /** the runner was started with --allow-commands: command jobs may go to it */
  allowCommands?: boolean;
};

export type ClaimedJob = {
  id: string;
  runId: string;
  projectName: string;
  attempt: number;
  fencingToken: number;
  spec: unknown;
  checkpointStep: number | null;
};

/** cuid-like ids for rows created outside Prisma (sortable by time, unique across processes) */
export function createId(): string {
  return "c" + Date.now().toString(36) + crypto.randomBytes(9).toString("base64url").replace(/[-_]/g, "x").toLowerCase();
}

/** Prisma stores SQLite DateTimes as ISO text with an explicit offset; match it so comparisons work. */
export const sqliteDate = (d: Date) => d.toISOString().replace("Z", "+00:00");

type Row = {
  id: string;
  runId: string;
  projectName: string;
  attempts: number | string;
  fencingToken: number | string;
  spec: unknown;
  checkpointStep: number | null;
};
const toClaimed = (r: Row): ClaimedJob => ({
  id: r.id,
  runId: r.runId,
  projectName: r.projectName,
  attempt: Number(r.attempts),
  fencingToken: Number(r.fencingToken),
  spec: typeof r.spec === "string" ? JSON.parse(r.spec) : r.spec,
  checkpointStep: r.checkpointStep === null ? null : Number(r.checkpointStep),
});

// Timestamps are written as UTC "timestamp without time zone", like Prisma does.
const PG_CLAIM = `
WITH runner AS (
  -- the runner may claim: not revoked, not draining, a free slot
  SELECT r."name" FROM "Runner" r
  WHERE r."id" = $1 AND r."revokedAt" IS NULL AND r."status" <> 'draining'
    AND (SELECT count(*) FROM "Job" WHERE "runnerId" = $1 AND "status" = 'running') < r."slots"
), picked AS (
  SELECT "id" FROM "Job"
  WHERE "status" = 'queued' AND "queue" = ANY($2::text[]) AND EXISTS (SELECT 1 FROM runner) AND "kind" <> 'pipeline' AND ("kind" <> 'command' OR $6::boolean)
  ORDER BY "priority" DESC, "createdAt" ASC, "id" ASC
  LIMIT 1 FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE "Job" j SET "status" = 'running', "fencingToken" = j."fencingToken" + 1, "attempts" = j."attempts" + 1,
    "runnerId" = $1, "jobTokenHash" = $3, "leaseExpiresAt" = ($4::timestamptz AT TIME ZONE 'UTC'), "startedAt" = COALESCE(j."startedAt", (now() AT TIME ZONE 'UTC')),
    "runId" = COALESCE(j."runId", $5), "error" = NULL, "exitCode" = NULL
  FROM picked WHERE j."id" = picked."id"
  RETURNING j."id", j."projectId", j."runId", j."attempts", j."fencingToken", j."spec", j."kind", j."group", j."checkpointStep", j."stageName"
), new_run AS (
  INSERT INTO "Run" ("id", "projectId", "name", "status", "config", "group", "jobId", "createdAt", "updatedAt", "heartbeatAt")
  SELECT c."runId", c."projectId", COALESCE(c."stageName", c."kind") || '-' || right(c."id", 6), 'running', c."spec", c."group", c."id", (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')
  FROM claimed c WHERE c."runId" = $5
), old_run AS (
  UPDATE "Run" r SET "status" = 'running', "finishedAt" = NULL, "error" = NULL, "updatedAt" = (now() AT TIME ZONE 'UTC')
  FROM claimed c WHERE r."id" = c."runId" AND c."runId" <> $5
), ev AS (
  INSERT INTO "JobEvent" ("jobId", "type", "attempt", "message", "createdAt")
  SELECT c."id", 'leased', c."attempts", 'runner ' || r."name", (now() AT TIME ZONE 'UTC') FROM claimed c, runner r
), att AS (
  INSERT INTO "JobAttempt" ("jobId", "attempt", "runnerId", "runnerName", "fencingToken", "status", "startedAt")
  SELECT c."id", c."attempts", $1, r."name", c."fencingToken", 'running', (now() AT TIME ZONE 'UTC') FROM claimed c, runner r
)
SELECT c."id", c."runId", p."name" AS "projectName", c."attempts", c."fencingToken", c."spec", c."checkpointStep"
FROM claimed c JOIN "Project" p ON p."id" = c."projectId"`;

/**
 * Claims the next queued job (priority, then FIFO) of `queues` for a runner, or null — also
 * null when the runner may not claim (revoked, draining, no free slot): the caller asks why.
 */
export function createClaimer(db: Database): (input: ClaimInput) => Promise<ClaimedJob | null> {
  if (db.provider === "postgres") {
    const pool = db.pool;
    return async (c) => {
      const res = await pool.query<Row>(PG_CLAIM, [c.runnerId, c.queues, c.jobTokenHash, c.leaseExpiresAt.toISOString(), createId(), !!c.allowCommands]);
      return res.rows[0] ? toClaimed(res.rows[0]) : null;
    };
  }
  const sql = db.sqlite;
  const pickByQueues = new Map<number, SqliteStatement>();
  const pick = (n: number) => {
    let st = pickByQueues.get(n);
    if (!st) {
      st = sql.prepare(
        `SELECT "id", "runId", "projectId", "kind", "group", "spec", "stageName" FROM "Job" WHERE "status" = 'queued' AND "queue" IN (${Array(n).fill("?").join(",")}) AND "kind" <> 'pipeline' AND ("kind" <> 'command' OR ?)
         ORDER BY "priority" DESC, "createdAt" ASC, "id" ASC LIMIT 1`,
      );
      pickByQueues.set(n, st);
    }
    return st;
  };
  const update = sql.prepare(
    `UPDATE "Job" SET "status" = 'running', "fencingToken" = "fencingToken" + 1, "attempts" = "attempts" + 1, "runnerId" = ?,
       "jobTokenHash" = ?, "leaseExpiresAt" = ?, "startedAt" = COALESCE("startedAt", ?), "runId" = ?, "error" = NULL, "exitCode" = NULL
     WHERE "id" = ? AND "status" = 'queued' RETURNING "attempts", "fencingToken", "checkpointStep"`,
  );
  const insertRun = sql.prepare(
    `INSERT INTO "Run" ("id", "projectId", "name", "status", "config", "group", "jobId", "createdAt", "updatedAt", "heartbeatAt") VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
  );
  const reopenRun = sql.prepare(`UPDATE "Run" SET "status" = 'running', "finishedAt" = NULL, "error" = NULL, "updatedAt" = ? WHERE "id" = ?`);
  const insertEvent = sql.prepare(`INSERT INTO "JobEvent" ("jobId", "type", "attempt", "message", "createdAt") VALUES (?, 'leased', ?, ?, ?)`);
  const insertAttempt = sql.prepare(
    `INSERT INTO "JobAttempt" ("jobId", "attempt", "runnerId", "runnerName", "fencingToken", "status", "startedAt") VALUES (?, ?, ?, ?, ?, 'running', ?)`,
  );
  const projectName = sql.prepare(`SELECT "name" FROM "Project" WHERE "id" = ?`).pluck();
  const runnerState = sql.prepare(
    `SELECT "name", "slots", "status", "revokedAt", (SELECT count(*) FROM "Job" WHERE "runnerId" = ? AND "status" = 'running') AS "busy" FROM "Runner" WHERE "id" = ?`,
  );
  const claim = sql.transaction((c: ClaimInput): ClaimedJob | null => {
    const runner = runnerState.get(c.runnerId, c.runnerId) as
      { name: string; slots: number; status: string; revokedAt: string | null; busy: number } | undefined;
    if (!runner || runner.revokedAt || runner.status === "draining" || runner.busy >= runner.slots) return null;
    const job = pick(c.queues.length).get(...c.queues, c.allowCommands ? 1 : 0) as
      { id: string; runId: string | null; projectId: string; kind: string; group: string | null; spec: string; stageName: string | null } | undefined;
    if (!job) return null;
    const now = sqliteDate(new Date());
    const runId = job.runId ?? createId();
    const u = update.get(c.runnerId, c.jobTokenHash, sqliteDate(c.leaseExpiresAt), now, runId, job.id) as {
      attempts: number;
      fencingToken: number;
      checkpointStep: number | null;
    };
    if (job.runId) reopenRun.run(now, runId);
    else insertRun.run(runId, job.projectId, `${job.stageName ?? job.kind}-${job.id.slice(-6)}`, job.spec, job.group, job.id, now, now, now);
    insertEvent.run(job.id, u.attempts, `runner ${runner.name}`, now);
    insertAttempt.run(job.id, u.attempts, c.runnerId, runner.name, u.fencingToken, now);
    return toClaimed({
      id: job.id,
      runId,
      projectName: projectName.get(job.projectId) as string,
      attempts: u.attempts,
      fencingToken: u.fencingToken,
      spec: job.spec,
      checkpointStep: u.checkpointStep,
    });
  });
  // Prisma's own connection to this file may hold the write lock across event-loop turns: a
  // synchronous busy-wait would block the loop that has to release it (see sqlite-busy.ts)
  return (c) => withoutBusyWait(sql, () => claim.immediate(c));
}
