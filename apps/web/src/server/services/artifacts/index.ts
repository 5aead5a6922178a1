import path from "node:path";

import { AppError, type ArtifactCommit, type ArtifactRef, type ArtifactVersionInfo, parseArtifactRef } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { Authorizer } from "../../auth/authorize";
import { ROUTE_POLICY } from "../../auth/policy";
import { actorOf, type Principal } from "../../auth/principal";
import type { AuditService } from "../audit";
import { type BlobIndex, createBlobIndex } from "./blob-index";
import { createFsBlobStore } from "./blob-store";
import { createUploadService, UPLOAD_EXPIRY_MS } from "./uploads";
import { commitVersion, moveAliases } from "./versions";

export type { BlobStore } from "./blob-store";
export { manifestDigest } from "./versions";

/**
 * The blob store of a server process: the filesystem under `blobsDir` (HERON_HOME/blobs, one
 * volume shared by every server process) with its database rows. `graceMs`: how long an
 * unreferenced blob survives its last touch (tests: 0).
 */
export function openBlobIndex(prisma: PrismaClient, blobsDir: string, graceMs?: number): BlobIndex {
  return createBlobIndex(prisma, createFsBlobStore(path.resolve(blobsDir)), graceMs);
}

const versionInclude = { artifact: true, files: { orderBy: { path: "asc" } }, aliases: { select: { alias: true } } } as const;

type VersionRow = {
  id: string;
  artifactId: string;
  version: number;
  digest: string;
  bytes: number;
  description: string | null;
  metadata: unknown;
  runId: string | null;
  jobId: string | null;
  createdAt: Date;
  artifact: { projectId: string; name: string; type: string };
  files: { path: string; digest: string; bytes: number }[];
  aliases: { alias: string }[];
};

function infoOf(v: VersionRow): ArtifactVersionInfo {
  return {
    id: v.id,
    artifactId: v.artifactId,
    projectId: v.artifact.projectId,
    name: v.artifact.name,
    type: v.artifact.type,
    version: v.version,
    digest: v.digest,
    bytes: v.bytes,
    description: v.description,
    metadata: v.metadata ?? null,
    aliases: v.aliases.map((a) => a.alias).sort(),
    runId: v.runId,
    jobId: v.jobId,
    createdAt: v.createdAt.toISOString(),
    files: v.files.map((f) => ({ path: f.path, digest: f.digest, bytes: f.bytes })),
  };
}

const CONTENT_TYPES: Record<string, string> = {
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

/**
 * Artifacts: named, typed, versioned sets of files in a project, stored content-addressed.
 * The API other services (lineage, forks, job submission) call — every function takes a
 * resolved project id and, where a caller acts, its Principal:
 * - `commit(p, projectId, input)` → `{...ArtifactVersionInfo, created}`: a new version of
 *   files already stored (uploads, or blobs known by digest such as checkpoint files);
 * - `resolve(projectId, "name:alias" | "name:v3" | "name")` → the version with its files;
 * - `version(versionId)`, `projectOfVersion(versionId)`;
 * - `recordUse(p, versionId, {runId?, jobId?})`: the lineage edge artifact → run;
 * - `list(projectId, type?)`, `get(projectId, name, {version} | {alias})` (versions, uses, producer);
 * - `setAlias(p, versionId, alias)`: audited; maintainers (the policy table);
 * - `openFile(versionId, path)` → a read stream with its size and digest;
 * - `blobs` (store + rows + collection) and `uploads` (resumable uploads).
 */
export function createArtifactService(prisma: PrismaClient, audit: AuditService, access: Authorizer, blobs: BlobIndex) {
  const uploads = createUploadService(prisma, blobs);

  async function version(versionId: string): Promise<ArtifactVersionInfo> {
    const v = await prisma.artifactVersion.findUnique({ where: { id: versionId }, include: versionInclude });
    if (!v) throw new AppError("NOT_FOUND", `artifact version "${versionId.slice(0, 100)}" not found`);
    return infoOf(v);
  }

  /** A job's token reaches its own project only (the policy table's project rules are for users). */
  function checkJobProject(p: Principal, projectId: string) {
    if (p.kind === "job" && p.projectId !== projectId) throw new AppError("FORBIDDEN", "this job's credentials cannot reach artifacts of another project");
  }

  /** The run a principal may name as producer or user of an artifact in `projectId`. */
  async function runFor(p: Principal, projectId: string, runId: string | undefined): Promise<{ runId: string | null; jobId: string | null }> {
    if (p.kind === "job") {
      if (runId && runId !== p.runId) throw new AppError("FORBIDDEN", `this job's credentials cannot reach run ${runId}`);
      return { runId: p.runId, jobId: p.jobId };
    }
    if (!runId) return { runId: null, jobId: null };
    const run = await prisma.run.findUnique({ where: { id: runId }, select: { projectId: true, jobId: true } });
    if (!run || run.projectId !== projectId) throw new AppError("NOT_FOUND", `run "${runId}" not found in this project`);
    return { runId, jobId: run.jobId };
  }

  async function auditMoves(p: Principal, artifactId: string, moves: Awaited<ReturnType<typeof moveAliases>>) {
    for (const m of moves) {
      const [from, to] = await Promise.all([
        m.fromVersionId ? prisma.artifactVersion.findUnique({ where: { id: m.fromVersionId }, select: { version: true } }) : null,
        prisma.artifactVersion.findUnique({ where: { id: m.toVersionId }, include: { artifact: { select: { name: true, projectId: true } } } }),
      ]);
      await audit.record(p, {
        action: "artifact.setAlias",
        target: `artifact:${artifactId}`,
        detail: {
          project: to?.artifact.projectId,
          name: to?.artifact.name,
          alias: m.alias,
          from: from ? `v${from.version}` : null,
          to: to ? `v${to.version}` : null,
        },
      });
    }
  }

  async function resolveRef(projectId: string, ref: ArtifactRef): Promise<ArtifactVersionInfo> {
    const artifact = await prisma.artifact.findUnique({ where: { projectId_name: { projectId, name: ref.name } } });
    if (!artifact) throw new AppError("NOT_FOUND", `no artifact "${ref.name}" in this project`);
    if ("version" in ref) {
      const v = await prisma.artifactVersion.findUnique({
        where: { artifactId_version: { artifactId: artifact.id, version: ref.version } },
        select: { id: true },
      });
      if (!v) throw new AppError("NOT_FOUND", `artifact "${ref.name}" has no version v${ref.version}`);
      return version(v.id);
    }
    const a = await prisma.artifactAlias.findUnique({ where: { artifactId_alias: { artifactId: artifact.id, alias: ref.alias } } });
    if (!a) throw new AppError("NOT_FOUND", `artifact "${ref.name}" has no alias "${ref.alias}"`);
    return version(a.versionId);
  }

  return {
    blobs,
    uploads,
    version,
    checkReach: checkJobProject,
    /** the actor label rows record for a principal */
    actor: (p: Principal) => actorOf(p).actor,
    async projectOfVersion(versionId: string): Promise<string> {
      return (await version(versionId)).projectId;
    },

    async commit(p: Principal, projectId: string, input: ArtifactCommit): Promise<ArtifactVersionInfo & { created: boolean }> {
      checkJobProject(p, projectId);
      const producer = await runFor(p, projectId, input.runId);
      if (input.aliases?.some((a) => a !== "latest")) await access.authorize(p, ROUTE_POLICY.artifactAlias, "setting artifact aliases", { projectId });
      const { actor } = actorOf(p);
      const r = await commitVersion(prisma, blobs, projectId, input, {
        actor,
        runId: producer.runId,
        jobId: input.jobId && p.kind !== "job" ? input.jobId : producer.jobId,
      });
      const info = await version(r.versionId);
      await auditMoves(p, info.artifactId, r.moves);
      return { ...info, created: r.created };
    },

    async resolve(projectId: string, ref: string | ArtifactRef): Promise<ArtifactVersionInfo> {
      return resolveRef(projectId, typeof ref === "string" ? parseArtifactRef(ref) : ref);
    },

    async recordUse(p: Principal, versionId: string, by: { runId?: string; jobId?: string } = {}) {
      const v = await version(versionId);
      checkJobProject(p, v.projectId);
      const user = await runFor(p, v.projectId, by.runId);
      const jobId = p.kind === "job" ? p.jobId : (by.jobId ?? user.jobId);
      const where = { versionId, runId: user.runId, jobId };
      const seen = await prisma.artifactUse.findFirst({ where });
      if (seen) return seen;
      return prisma.artifactUse.create({ data: { ...where, usedBy: actorOf(p).actor } });
    },

    async list(projectId: string, type?: string) {
      const rows = await prisma.artifact.findMany({
        where: { projectId, ...(type ? { type } : {}) },
        orderBy: { updatedAt: "desc" },
        take: 1000,
        include: {
          aliases: { select: { alias: true, version: { select: { version: true } } } },
          versions: { orderBy: { version: "desc" }, take: 1, select: { id: true, version: true, bytes: true, createdAt: true, runId: true } },
          _count: { select: { versions: true } },
        },
      });
      return rows.map((a) => ({
        id: a.id,
        name: a.name,
        type: a.type,
        description: a.description,
        versions: a._count.versions,
        latest: a.versions[0] ?? null,
        aliases: Object.fromEntries(a.aliases.map((x) => [x.alias, `v${x.version.version}`])),
        updatedAt: a.updatedAt,
      }));
    },

    /** One version (by number or alias; `latest` when neither) with its artifact's other versions, producer and uses. */
    async get(projectId: string, name: string, which: { version?: number; alias?: string }) {
      const v = await resolveRef(projectId, which.version !== undefined ? { name, version: which.version } : { name, alias: which.alias ?? "latest" });
      const [versions, uses, producer] = await Promise.all([
        prisma.artifactVersion.findMany({
          where: { artifactId: v.artifactId },
          orderBy: { version: "desc" },
          take: 500,
          select: { id: true, version: true, digest: true, bytes: true, fileCount: true, createdAt: true, runId: true, aliases: { select: { alias: true } } },
        }),
        prisma.artifactUse.findMany({ where: { versionId: v.id }, orderBy: { createdAt: "desc" }, take: 500 }),
        v.runId ? prisma.run.findUnique({ where: { id: v.runId }, select: { id: true, name: true, status: true } }) : null,
      ]);
      const runNames = new Map(
        (await prisma.run.findMany({ where: { id: { in: uses.map((u) => u.runId).filter((x): x is string => !!x) } }, select: { id: true, name: true } })).map(
          (r) => [r.id, r.name],
        ),
      );
      return {
        ...v,
        producer,
        uses: uses.map((u) => ({
          runId: u.runId,
          runName: u.runId ? (runNames.get(u.runId) ?? null) : null,
          jobId: u.jobId,
          usedBy: u.usedBy,
          createdAt: u.createdAt,
        })),
        versions: versions.map((x) => ({ ...x, aliases: x.aliases.map((a) => a.alias).sort() })),
      };
    },

    async setAlias(p: Principal, versionId: string, alias: string) {
      if (alias === "latest") throw new AppError("BAD_REQUEST", `"latest" always names the newest version; choose another alias`);
      const v = await version(versionId);
      const moves = await moveAliases(prisma, v.artifactId, versionId, [alias], actorOf(p).actor);
      await auditMoves(p, v.artifactId, moves);
      return version(versionId);
    },

    /** A file of a version: size, digest and the content type its extension suggests. */
    async file(versionId: string, filePath: string): Promise<{ bytes: number; digest: string; contentType: string }> {
      const f = await prisma.artifactFile.findUnique({ where: { versionId_path: { versionId, path: filePath } } });
      if (!f) throw new AppError("NOT_FOUND", `artifact version "${versionId.slice(0, 100)}" has no file "${filePath.slice(0, 200)}"`);
      return { bytes: f.bytes, digest: f.digest, contentType: CONTENT_TYPES[path.posix.extname(filePath).toLowerCase()] ?? "application/octet-stream" };
    },

    /** The file's bytes (all, or [start, end] inclusive) as a stream. */
    async openFile(versionId: string, filePath: string, range?: { start: number; end: number } | null) {
      const f = await this.file(versionId, filePath);
      return { ...f, stream: await blobs.open(f.digest, range ?? undefined) };
    },

    /**
     * Housekeeping (timers): blobs nothing references, untouched for the grace period, go;
     * so do uploads and staged chunks nobody continued for a day.
     */
    async collectGarbage(candidates?: string[]) {
      const blobsRemoved = await blobs.collect({ candidates });
      const uploadsExpired = (await uploads.expire()) + (await blobs.store.uploads.expire(UPLOAD_EXPIRY_MS));
      return { blobsRemoved, uploadsExpired };
    },
  };
}
export type ArtifactService = ReturnType<typeof createArtifactService>;
