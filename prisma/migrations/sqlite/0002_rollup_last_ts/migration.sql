-- AlterTable
ALTER TABLE "MetricSeries" ADD COLUMN "lastTs" REAL;

-- AlterTable
ALTER TABLE "MetricRollup" ADD COLUMN "lastTs" REAL;

