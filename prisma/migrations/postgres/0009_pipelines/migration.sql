-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "pipelineJobId" TEXT,
ADD COLUMN     "stageIndex" INTEGER,
ADD COLUMN     "stageName" TEXT;

