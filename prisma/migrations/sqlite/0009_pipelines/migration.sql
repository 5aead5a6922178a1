-- AlterTable
ALTER TABLE "Job" ADD COLUMN "pipelineJobId" TEXT;
ALTER TABLE "Job" ADD COLUMN "stageIndex" INTEGER;
ALTER TABLE "Job" ADD COLUMN "stageName" TEXT;

