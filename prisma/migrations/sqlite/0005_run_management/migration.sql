-- AlterTable
ALTER TABLE "Run" ADD COLUMN "archivedAt" DATETIME;
ALTER TABLE "Run" ADD COLUMN "deletedAt" DATETIME;
ALTER TABLE "Run" ADD COLUMN "deletedBy" TEXT;

-- CreateIndex
CREATE INDEX "Run_projectId_deletedAt_idx" ON "Run"("projectId", "deletedAt");

