import type { Readable } from "node:stream";

import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { BlobExpect, BlobStore, StoredBlob } from "./blob-store";

/** how long a blob nothing references is kept after anything last touched it (default) */
export const DEFAULT_BLOB_GRACE_MS = 10 * 60_000;

const unreferenced = { artifactFiles: { none: {} }, checkpointFiles: { none: {} } } as const;

/**
 * The blob store together with its database rows (`Blob`): every stored blob has a row, and
 * references (artifact files, checkpoint files) point at rows with a restricting foreign key.
 * Protocol that keeps collection safe against concurrent writers:
 * - a writer records (or touches) the row BEFORE the file is in place, and touches it again
 *   when it finds a blob already stored;
 * - collection deletes only rows unreferenced and untouched for `graceMs`, in one statement,
 *   then removes the file, asking the database again afterwards (a re-upload in that instant
 *   re-creates the row, and the file is put back).
 * So a client told "already stored" has `graceMs` to commit a reference to it; later, the
 * commit is refused with the digests to upload again (never a reference to a missing file).
 */
export function createBlobIndex(prisma: PrismaClient, store: BlobStore, graceMs = DEFAULT_BLOB_GRACE_MS) {
  async function record(got: StoredBlob) {
    await prisma.blob.upsert({
      where: { digest: got.digest },
      create: { digest: got.digest, bytes: got.bytes },
      update: { touchedAt: new Date() },
    });
  }

  return {
    store,
    /** how long an unreferenced blob outlives its last touch */
    graceMs,
    /** Stores a stream (verified against `expect`) and records it. */
    async put(source: AsyncIterable<Uint8Array>, expect: Omit<BlobExpect, "beforePlace"> = {}) {
      return store.put(source, { ...expect, beforePlace: record });
    },
    /** Moves a finished upload into the store, verified, and records it. */
    async finishUpload(id: string, expect: Omit<BlobExpect, "beforePlace">) {
      return store.uploads.finish(id, { ...expect, beforePlace: record });
    },
    /**
     * Which of `digests` are stored (row and file), touching their rows so collection spares
     * them for a grace period. Checks each file too: a row whose file went missing (a lost
     * volume) counts as absent, so the client uploads it again.
     */
    async present(digests: string[]): Promise<Set<string>> {
      const unique = [...new Set(digests)];
      const have = new Set<string>();
      for (let i = 0; i < unique.length; i += 500) {
        const part = unique.slice(i, i + 500);
        await prisma.blob.updateMany({ where: { digest: { in: part } }, data: { touchedAt: new Date() } });
        const rows = await prisma.blob.findMany({ where: { digest: { in: part } }, select: { digest: true, bytes: true } });
        for (const r of rows) {
          const st = await store.stat(r.digest);
          if (st && st.bytes === r.bytes) have.add(r.digest);
        }
      }
      return have;
    },
    async open(digest: string, range?: { start: number; end?: number }): Promise<Readable> {
      return store.open(digest, range);
    },
    async bytesOf(digest: string): Promise<number> {
      const st = await store.stat(digest);
      if (!st) throw new AppError("NOT_FOUND", `blob ${digest} is not stored`);
      return st.bytes;
    },
    /**
     * Removes blobs that nothing references and nothing touched for `graceMs` — all of them,
     * or only `candidates` (the digests a deletion just released). Returns how many went.
     */
    async collect(opts: { candidates?: string[]; graceMs?: number } = {}): Promise<number> {
      const cutoff = new Date(Date.now() - (opts.graceMs ?? graceMs));
      let removed = 0;
      for (;;) {
        const rows = await prisma.blob.findMany({
          where: { ...unreferenced, touchedAt: { lt: cutoff }, ...(opts.candidates ? { digest: { in: opts.candidates } } : {}) },
          select: { digest: true },
          take: 500,
        });
        let gone = 0;
        for (const { digest } of rows) {
          // the same conditions again, atomically: a reference or touch since the read wins
          const { count } = await prisma.blob.deleteMany({ where: { digest, touchedAt: { lt: cutoff }, ...unreferenced } }).catch(() => ({ count: 0 })); // a reference inserted meanwhile: the foreign key refuses
          if (!count) continue;
          gone++;
          if (await store.delete(digest, async () => (await prisma.blob.count({ where: { digest } })) > 0)) removed++;
        }
        if (rows.length < 500 || gone === 0) return removed;
      }
    },
  };
}
export type BlobIndex = ReturnType<typeof createBlobIndex>;
