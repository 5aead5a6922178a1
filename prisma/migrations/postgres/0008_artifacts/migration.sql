-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "forkStep" INTEGER,
ADD COLUMN     "forkedFromRunId" TEXT;

-- CreateTable
CREATE TABLE "Blob" (
    "digest" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "touchedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Blob_pkey" PRIMARY KEY ("digest")
);

-- CreateTable
CREATE TABLE "BlobUpload" (
    "id" TEXT NOT NULL,
    "projectId" TEXT,
    "digest" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION NOT NULL,
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BlobUpload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Artifact" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT,
    "nextVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ArtifactVersion" (
    "id" TEXT NOT NULL,
    "artifactId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION NOT NULL,
    "fileCount" INTEGER NOT NULL,
    "description" TEXT,
    "metadata" JSONB,
    "runId" TEXT,
    "jobId" TEXT,
    "createdBy" TEXT,
    "clientKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArtifactVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ArtifactFile" (
    "versionId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "ArtifactFile_pkey" PRIMARY KEY ("versionId","path")
);

-- CreateTable
CREATE TABLE "ArtifactAlias" (
    "artifactId" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "setBy" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArtifactAlias_pkey" PRIMARY KEY ("artifactId","alias")
);

-- CreateTable
CREATE TABLE "ArtifactUse" (
    "id" SERIAL NOT NULL,
    "versionId" TEXT NOT NULL,
    "runId" TEXT,
    "jobId" TEXT,
    "usedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArtifactUse_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobCheckpointFile" (
    "jobId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "JobCheckpointFile_pkey" PRIMARY KEY ("jobId","step","name")
);

-- CreateIndex
CREATE INDEX "Blob_touchedAt_idx" ON "Blob"("touchedAt");

-- CreateIndex
CREATE INDEX "BlobUpload_updatedAt_idx" ON "BlobUpload"("updatedAt");

-- CreateIndex
CREATE INDEX "Artifact_projectId_type_idx" ON "Artifact"("projectId", "type");

-- CreateIndex
CREATE UNIQUE INDEX "Artifact_projectId_name_key" ON "Artifact"("projectId", "name");

-- CreateIndex
CREATE INDEX "ArtifactVersion_artifactId_digest_idx" ON "ArtifactVersion"("artifactId", "digest");

-- CreateIndex
CREATE INDEX "ArtifactVersion_runId_idx" ON "ArtifactVersion"("runId");

-- CreateIndex
CREATE INDEX "ArtifactVersion_jobId_idx" ON "ArtifactVersion"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "ArtifactVersion_artifactId_version_key" ON "ArtifactVersion"("artifactId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "ArtifactVersion_artifactId_clientKey_key" ON "ArtifactVersion"("artifactId", "clientKey");

-- CreateIndex
CREATE INDEX "ArtifactFile_digest_idx" ON "ArtifactFile"("digest");

-- CreateIndex
CREATE INDEX "ArtifactAlias_versionId_idx" ON "ArtifactAlias"("versionId");

-- CreateIndex
CREATE INDEX "ArtifactUse_versionId_createdAt_idx" ON "ArtifactUse"("versionId", "createdAt");

-- CreateIndex
CREATE INDEX "ArtifactUse_runId_idx" ON "ArtifactUse"("runId");

-- CreateIndex
CREATE INDEX "ArtifactUse_jobId_idx" ON "ArtifactUse"("jobId");

-- CreateIndex
CREATE INDEX "JobCheckpointFile_digest_idx" ON "JobCheckpointFile"("digest");

-- AddForeignKey
ALTER TABLE "ArtifactVersion" ADD CONSTRAINT "ArtifactVersion_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactFile" ADD CONSTRAINT "ArtifactFile_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactFile" ADD CONSTRAINT "ArtifactFile_digest_fkey" FOREIGN KEY ("digest") REFERENCES "Blob"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactAlias" ADD CONSTRAINT "ArtifactAlias_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactAlias" ADD CONSTRAINT "ArtifactAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactUse" ADD CONSTRAINT "ArtifactUse_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobCheckpointFile" ADD CONSTRAINT "JobCheckpointFile_jobId_step_fkey" FOREIGN KEY ("jobId", "step") REFERENCES "JobCheckpoint"("jobId", "step") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobCheckpointFile" ADD CONSTRAINT "JobCheckpointFile_digest_fkey" FOREIGN KEY ("digest") REFERENCES "Blob"("digest") ON DELETE RESTRICT ON UPDATE CASCADE;

