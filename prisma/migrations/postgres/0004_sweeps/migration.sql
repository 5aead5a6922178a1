-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "method" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "submittedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SweepTrial" (
    "id" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "params" JSONB NOT NULL,
    "jobId" TEXT,
    "runId" TEXT,
    "status" TEXT NOT NULL DEFAULT 'running',
    "reports" JSONB NOT NULL,
    "metric" DOUBLE PRECISION,
    "pruneReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "SweepTrial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ControllerLease" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ControllerLease_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "Sweep_projectId_createdAt_idx" ON "Sweep"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE UNIQUE INDEX "SweepTrial_jobId_key" ON "SweepTrial"("jobId");

-- CreateIndex
CREATE INDEX "SweepTrial_status_idx" ON "SweepTrial"("status");

-- CreateIndex
CREATE UNIQUE INDEX "SweepTrial_sweepId_index_key" ON "SweepTrial"("sweepId", "index");

-- AddForeignKey
ALTER TABLE "SweepTrial" ADD CONSTRAINT "SweepTrial_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

