import crypto from "node:crypto";

import { AppError, type ArtifactCommit, type ArtifactFileEntry, manifestText } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { BlobIndex } from "./blob-index";

/** Who commits a version: the actor label for rows and, for a job's token, its run and job. */
export type Producer = { actor: string; runId?: string | null; jobId?: string | null };

export const manifestDigest = (files: readonly ArtifactFileEntry[]) => crypto.createHash("sha256").update(manifestText(files)).digest("hex");

const isUniqueViolation = (err: unknown) => (err as { code?: unknown }).code === "P2002";

/**
 * Creating versions. A version is immutable; its files must be stored blobs already (uploaded,
 * or — for a job's checkpoint files — known by digest), so committing never copies bytes.
 * - The same `clientKey` again returns the version it created (a replayed SDK record).
 * - Files equal to the newest version's return that version (`created: false`): logging
 *   the same files twice makes neither a second version nor a second stored copy.
 * - `latest` moves to every new version; other aliases in `input.aliases` move too (the
 *   caller checked the role that needs).
 */
// Long because it is one transaction's preparation and its two idempotency short-cuts.
export async function commitVersion(prisma: PrismaClient, blobs: BlobIndex, projectId: string, input: ArtifactCommit, who: Producer) {
  const digest = manifestDigest(input.files);
  const existing = await prisma.artifact.findUnique({ where: { projectId_name: { projectId, name: input.name } } });
  if (existing && existing.type !== input.type)
    throw new AppError("CONFLICT", `artifact "${input.name}" is of type "${existing.type}", not "${input.type}": use another name`);
  if (existing && input.clientKey) {
    const replay = await prisma.artifactVersion.findUnique({ where: { artifactId_clientKey: { artifactId: existing.id, clientKey: input.clientKey } } });
    if (replay) return { versionId: replay.id, created: false, moves: [] };
  }
  if (existing) {
    const newest = await prisma.artifactVersion.findFirst({ where: { artifactId: existing.id }, orderBy: { version: "desc" } });
    if (newest?.digest === digest) {
      const moves = await moveAliases(prisma, existing.id, newest.id, input.aliases ?? [], who.actor);
      return { versionId: newest.id, created: false, moves };
    }
  }
  const present = await blobs.present(input.files.map((f) => f.digest));
  const missing = input.files.filter((f) => !present.has(f.digest));
  if (missing.length)
    throw new AppError(
      "CONFLICT",
      `${missing.length} file(s) are not stored: ${missing
        .slice(0, 5)
        .map((f) => `${f.path} (${f.digest})`)
        .join(", ")}${missing.length > 5 ? ", …" : ""}; upload them, then commit again`,
    );
  for (const f of input.files) {
    const stored = await blobs.bytesOf(f.digest);
    if (stored !== f.bytes) throw new AppError("BAD_REQUEST", `file ${f.path}: ${f.bytes} bytes announced, the stored blob ${f.digest} has ${stored}`);
  }
  const total = input.files.reduce((s, f) => s + f.bytes, 0);
  try {
    const versionId = await prisma.$transaction(async (tx) => {
      const artifact = await tx.artifact.upsert({
        where: { projectId_name: { projectId, name: input.name } },
        create: { projectId, name: input.name, type: input.type, nextVersion: 1 },
        update: { nextVersion: { increment: 1 } },
      });
      const v = await tx.artifactVersion.create({
        data: {
          artifactId: artifact.id,
          version: artifact.nextVersion - 1,
          digest,
          bytes: total,
          fileCount: input.files.length,
          description: input.description ?? null,
          metadata: (input.metadata as object | undefined) ?? undefined,
          runId: who.runId ?? input.runId ?? null,
          jobId: who.jobId ?? input.jobId ?? null,
          createdBy: who.actor,
          clientKey: input.clientKey ?? null,
        },
      });
      await tx.artifactFile.createMany({ data: input.files.map((f) => ({ versionId: v.id, path: f.path, digest: f.digest, bytes: f.bytes })) });
      await tx.blob.updateMany({ where: { digest: { in: [...present] } }, data: { touchedAt: new Date() } });
      await tx.artifactAlias.upsert({
        where: { artifactId_alias: { artifactId: artifact.id, alias: "latest" } },
        create: { artifactId: artifact.id, alias: "latest", versionId: v.id, setBy: who.actor },
        update: { versionId: v.id, setBy: who.actor },
      });
      return v.id;
    });
    const artifactId = (await prisma.artifactVersion.findUniqueOrThrow({ where: { id: versionId }, select: { artifactId: true } })).artifactId;
    const moves = await moveAliases(prisma, artifactId, versionId, input.aliases ?? [], who.actor);
    return { versionId, created: true, moves };
  } catch (err) {
    // the same record sent twice at once: the second finds what the first made
    if (isUniqueViolation(err) && input.clientKey) {
      const a = await prisma.artifact.findUnique({ where: { projectId_name: { projectId, name: input.name } } });
      const replay = a && (await prisma.artifactVersion.findUnique({ where: { artifactId_clientKey: { artifactId: a.id, clientKey: input.clientKey } } }));
      if (replay) return { versionId: replay.id, created: false, moves: [] };
    }
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `another version of "${input.name}" was committed at the same moment; commit again`);
    throw err;
  }
}

/** Points aliases at a version; returns the moves made ({alias, from, to} version numbers) for the audit log. */
export async function moveAliases(prisma: PrismaClient, artifactId: string, versionId: string, aliases: readonly string[], actor: string) {
  const moves: { alias: string; fromVersionId: string | null; toVersionId: string }[] = [];
  for (const alias of new Set(aliases)) {
    if (alias === "latest") continue;
    const before = await prisma.artifactAlias.findUnique({ where: { artifactId_alias: { artifactId, alias } } });
    if (before?.versionId === versionId) continue;
    await prisma.artifactAlias.upsert({
      where: { artifactId_alias: { artifactId, alias } },
      create: { artifactId, alias, versionId, setBy: actor },
      update: { versionId, setBy: actor },
    });
    moves.push({ alias, fromVersionId: before?.versionId ?? null, toVersionId: versionId });
  }
  return moves;
}
