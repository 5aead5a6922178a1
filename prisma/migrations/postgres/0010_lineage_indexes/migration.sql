-- CreateIndex
CREATE INDEX "Run_forkedFromRunId_idx" ON "Run"("forkedFromRunId");

-- CreateIndex
CREATE INDEX "Job_pipelineJobId_idx" ON "Job"("pipelineJobId");

