-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'member',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Project" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "config" JSONB,
    "summary" JSONB,
    "environment" JSONB,
    "tags" JSONB,
    "group" TEXT,
    "notes" TEXT,
    "host" TEXT,
    "error" TEXT,
    "jobId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "heartbeatAt" DATETIME,
    CONSTRAINT "Run_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RunWriter" (
    "runId" TEXT NOT NULL,
    "writer" TEXT NOT NULL,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("runId", "writer"),
    CONSTRAINT "RunWriter_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LogLine" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "runId" TEXT NOT NULL,
    "stream" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "ts" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "writer" TEXT,
    "seq" INTEGER,
    CONSTRAINT "LogLine_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Media" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "caption" TEXT,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "png" BLOB NOT NULL,
    "ts" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Media_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TextSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "rows" JSONB NOT NULL,
    "ts" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TextSample_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Runner" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "hostname" TEXT,
    "cpus" INTEGER,
    "memoryBytes" REAL,
    "backend" TEXT,
    "gpus" JSONB,
    "slots" INTEGER NOT NULL DEFAULT 1,
    "queues" JSONB,
    "status" TEXT NOT NULL DEFAULT 'offline',
    "lastHeartbeatAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "queue" TEXT NOT NULL DEFAULT 'default',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "spec" JSONB NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "runId" TEXT,
    "runnerId" TEXT,
    "fencingToken" INTEGER NOT NULL DEFAULT 0,
    "leaseExpiresAt" DATETIME,
    "jobTokenHash" TEXT,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "exitCode" INTEGER,
    "error" TEXT,
    "group" TEXT,
    "checkpointStep" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    CONSTRAINT "Job_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Job_runnerId_fkey" FOREIGN KEY ("runnerId") REFERENCES "Runner" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "jobId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobAttempt" (
    "jobId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "runnerId" TEXT,
    "runnerName" TEXT,
    "fencingToken" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "exitCode" INTEGER,
    "error" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,

    PRIMARY KEY ("jobId", "attempt"),
    CONSTRAINT "JobAttempt_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobCheckpoint" (
    "jobId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "files" JSONB NOT NULL,
    "complete" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("jobId", "step"),
    CONSTRAINT "JobCheckpoint_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobCheckpointChunk" (
    "jobId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "file" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "data" BLOB NOT NULL,

    PRIMARY KEY ("jobId", "step", "file", "idx"),
    CONSTRAINT "JobCheckpointChunk_jobId_step_fkey" FOREIGN KEY ("jobId", "step") REFERENCES "JobCheckpoint" ("jobId", "step") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MetricSeries" (
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "count" BIGINT NOT NULL,
    "firstStep" BIGINT NOT NULL,
    "lastStep" BIGINT NOT NULL,
    "last" REAL,
    "min" REAL,
    "max" REAL,
    "lastFiniteStep" BIGINT,
    "lastFinite" REAL,
    "baseLevel" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("runId", "key")
);

-- CreateTable
CREATE TABLE "MetricChunk" (
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "startStep" BIGINT NOT NULL,
    "endStep" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    "data" BLOB NOT NULL,

    PRIMARY KEY ("runId", "key", "startStep")
);

-- CreateTable
CREATE TABLE "MetricRollup" (
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "level" INTEGER NOT NULL,
    "cell" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    "min" REAL,
    "max" REAL,
    "lastStep" BIGINT NOT NULL,
    "last" REAL,
    "lastFiniteStep" BIGINT,
    "lastFinite" REAL,

    PRIMARY KEY ("runId", "key", "level", "cell")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_keyHash_key" ON "ApiKey"("keyHash");

-- CreateIndex
CREATE UNIQUE INDEX "Project_name_key" ON "Project"("name");

-- CreateIndex
CREATE INDEX "Run_projectId_createdAt_idx" ON "Run"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "Run_group_idx" ON "Run"("group");

-- CreateIndex
CREATE INDEX "LogLine_runId_id_idx" ON "LogLine"("runId", "id");

-- CreateIndex
CREATE INDEX "LogLine_runId_writer_seq_idx" ON "LogLine"("runId", "writer", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Media_runId_key_step_key" ON "Media"("runId", "key", "step");

-- CreateIndex
CREATE UNIQUE INDEX "TextSample_runId_key_step_key" ON "TextSample"("runId", "key", "step");

-- CreateIndex
CREATE UNIQUE INDEX "Runner_tokenHash_key" ON "Runner"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "Job_jobTokenHash_key" ON "Job"("jobTokenHash");

-- CreateIndex
CREATE INDEX "Job_status_queue_priority_createdAt_idx" ON "Job"("status", "queue", "priority", "createdAt");

-- CreateIndex
CREATE INDEX "Job_status_leaseExpiresAt_idx" ON "Job"("status", "leaseExpiresAt");

-- CreateIndex
CREATE INDEX "Job_runnerId_status_idx" ON "Job"("runnerId", "status");

-- CreateIndex
CREATE INDEX "Job_projectId_createdAt_idx" ON "Job"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "JobEvent_jobId_id_idx" ON "JobEvent"("jobId", "id");

