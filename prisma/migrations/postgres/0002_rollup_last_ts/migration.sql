-- AlterTable
ALTER TABLE "MetricSeries" ADD COLUMN     "lastTs" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "MetricRollup" ADD COLUMN     "lastTs" DOUBLE PRECISION;

