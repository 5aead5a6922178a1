import crypto from "node:crypto";
import { Readable } from "node:stream";

import { AppError, type BlobUploadState } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { BlobIndex } from "./blob-index";

/** an upload nobody continued for this long is dropped with its bytes */
export const UPLOAD_EXPIRY_MS = 24 * 3600_000;

/**
 * Resumable uploads of one blob each, for the SDK and the CLI: `start` answers whether the
 * blob is stored already (then nothing is sent) or where to continue; `append` takes the
 * bytes from that offset and, with the last one, verifies the digest and stores the blob.
 * Sessions live in the database (any server process can continue one) and their bytes on
 * the shared blob volume.
 */
export function createUploadService(prisma: PrismaClient, blobs: BlobIndex) {
  const areas = blobs.store.uploads;

  async function session(uploadId: string) {
    const row = await prisma.blobUpload.findUnique({ where: { id: uploadId } });
    if (!row) throw new AppError("NOT_FOUND", `upload "${uploadId.slice(0, 100)}" not found (finished, aborted or expired)`);
    return row;
  }

  async function stateOf(row: { id: string; bytes: number }): Promise<BlobUploadState> {
    const offset = await areas.offset(row.id);
    if (offset === null) {
      await prisma.blobUpload.deleteMany({ where: { id: row.id } });
      throw new AppError("NOT_FOUND", `upload "${row.id}" lost its bytes; start it again`);
    }
    return { uploadId: row.id, offset, bytes: row.bytes, complete: false };
  }

  return {
    /** The project an upload belongs to (routes authorise with it before anything else). */
    async projectOf(uploadId: string): Promise<string> {
      const row = await session(uploadId);
      if (!row.projectId) throw new AppError("FORBIDDEN", `upload "${uploadId}" is not an artifact upload`);
      return row.projectId;
    },

    /** Stored already → complete; an unfinished upload of the same blob → its offset; else a new upload at 0. */
    async start(actor: string, projectId: string, blob: { digest: string; bytes: number }): Promise<BlobUploadState> {
      if ((await blobs.present([blob.digest])).has(blob.digest)) return { uploadId: null, offset: blob.bytes, bytes: blob.bytes, complete: true };
      if (blob.bytes === 0) {
        await blobs.put(Readable.from([]), { digest: blob.digest, bytes: 0 });
        return { uploadId: null, offset: 0, bytes: 0, complete: true };
      }
      const open = await prisma.blobUpload.findFirst({ where: { projectId, digest: blob.digest, bytes: blob.bytes }, orderBy: { updatedAt: "desc" } });
      if (open && (await areas.offset(open.id)) !== null) return stateOf(open);
      const id = "up_" + crypto.randomBytes(16).toString("hex");
      await areas.create(id);
      await prisma.blobUpload.create({ data: { id, projectId, digest: blob.digest, bytes: blob.bytes, createdBy: actor } });
      return { uploadId: id, offset: 0, bytes: blob.bytes, complete: false };
    },

    async state(uploadId: string): Promise<BlobUploadState> {
      return stateOf(await session(uploadId));
    },

    /**
     * Appends the bytes from `offset` (the upload's current length; anything else is a
     * CONFLICT naming the right one). A broken request keeps what arrived: the client asks
     * `state` and continues. The last byte verifies size and digest and stores the blob; a
     * mismatch drops the upload (BAD_REQUEST saying what differed).
     */
    async append(uploadId: string, offset: number, source: AsyncIterable<Uint8Array>): Promise<BlobUploadState> {
      const row = await session(uploadId);
      const length = await areas.append(uploadId, offset, source, row.bytes);
      await prisma.blobUpload.update({ where: { id: uploadId }, data: { updatedAt: new Date() } });
      if (length < row.bytes) return { uploadId, offset: length, bytes: row.bytes, complete: false };
      try {
        await blobs.finishUpload(uploadId, { digest: row.digest, bytes: row.bytes });
      } finally {
        // verified and stored, or refused and dropped: the session is over either way
        await prisma.blobUpload.deleteMany({ where: { id: uploadId } });
      }
      return { uploadId, offset: length, bytes: row.bytes, complete: true };
    },

    async abort(uploadId: string) {
      await areas.abort(uploadId);
      await prisma.blobUpload.deleteMany({ where: { id: uploadId } });
    },

    /** Drops uploads nobody continued within `maxAgeMs` (timers). */
    async expire(maxAgeMs = UPLOAD_EXPIRY_MS): Promise<number> {
      const old = await prisma.blobUpload.findMany({ where: { updatedAt: { lt: new Date(Date.now() - maxAgeMs) } }, select: { id: true }, take: 1000 });
      for (const { id } of old) await this.abort(id);
      return old.length;
    },
  };
}
export type UploadService = ReturnType<typeof createUploadService>;
