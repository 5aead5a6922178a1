-- AlterTable
ALTER TABLE "Run" ADD COLUMN "forkStep" INTEGER;
ALTER TABLE "Run" ADD COLUMN "forkedFromRunId" TEXT;

-- CreateTable
CREATE TABLE "Blob" (
    "digest" TEXT NOT NULL PRIMARY KEY,
    "bytes" REAL NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "touchedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "BlobUpload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT,
    "digest" TEXT NOT NULL,
    "bytes" REAL NOT NULL,
    "createdBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Artifact" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT,
    "nextVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ArtifactVersion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "artifactId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" REAL NOT NULL,
    "fileCount" INTEGER NOT NULL,
    "description" TEXT,
    "metadata" JSONB,
    "runId" TEXT,
    "jobId" TEXT,
    "createdBy" TEXT,
    "clientKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ArtifactVersion_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ArtifactFile" (
    "versionId" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" REAL NOT NULL,

    PRIMARY KEY ("versionId", "path"),
    CONSTRAINT "ArtifactFile_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ArtifactFile_digest_fkey" FOREIGN KEY ("digest") REFERENCES "Blob" ("digest") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ArtifactAlias" (
    "artifactId" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "setBy" TEXT,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("artifactId", "alias"),
    CONSTRAINT "ArtifactAlias_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ArtifactAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ArtifactUse" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "versionId" TEXT NOT NULL,
    "runId" TEXT,
    "jobId" TEXT,
    "usedBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ArtifactUse_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ArtifactVersion" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "JobCheckpointFile" (
    "jobId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "bytes" REAL NOT NULL,

    PRIMARY KEY ("jobId", "step", "name"),
    CONSTRAINT "JobCheckpointFile_jobId_step_fkey" FOREIGN KEY ("jobId", "step") REFERENCES "JobCheckpoint" ("jobId", "step") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "JobCheckpointFile_digest_fkey" FOREIGN KEY ("digest") REFERENCES "Blob" ("digest") ON DELETE RESTRICT ON UPDATE CASCADE
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

