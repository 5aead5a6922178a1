import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable, Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { AppError, DigestSchema } from "@heron/core";

/**
 * `beforePlace` runs once the content is verified and before it becomes visible under its
 * digest: callers record the blob (its database row) there, so a row always exists before
 * the file does and garbage collection never sees a stored blob it does not know.
 */
export type BlobExpect = { digest?: string; bytes?: number; beforePlace?: (got: StoredBlob) => Promise<void> };
export type StoredBlob = { digest: string; bytes: number };

/**
 * Content-addressed storage of file contents by SHA-256. One interface so an object store
 * (S3-compatible: put = multipart upload, uploads = multipart parts, open = ranged GET) can
 * replace the filesystem later; docs/artifacts.md lists what each method must guarantee.
 * Everything streams: no method holds a whole blob in memory.
 */
export type BlobStore = {
  /** Stores a stream; when `expect` is given, a different digest or size is refused and nothing is kept. */
  put(source: AsyncIterable<Uint8Array>, expect?: BlobExpect): Promise<StoredBlob>;
  has(digest: string): Promise<boolean>;
  stat(digest: string): Promise<{ bytes: number } | null>;
  /** A read stream of the blob, or of bytes [start, end] (inclusive, as HTTP ranges). */
  open(digest: string, range?: { start: number; end?: number }): Promise<Readable>;
  /**
   * Removes a blob. `stillWanted` is asked after the blob left its place: when a concurrent
   * upload re-created its database row meanwhile, the blob is put back instead of lost.
   */
  delete(digest: string, stillWanted?: () => Promise<boolean>): Promise<boolean>;
  uploads: UploadArea;
};

/**
 * Resumable uploads: the bytes received so far for an upload id, whose length is the offset
 * a client resumes from. Ids are `[A-Za-z0-9_-]{1,100}` (callers make them).
 */
export type UploadArea = {
  /** bytes received so far; null when there is no such upload */
  offset(id: string): Promise<number | null>;
  create(id: string): Promise<void>;
  /** Appends a stream at `offset` (which must be the current length), at most up to `limit` bytes in all; returns the new length. */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>, limit: number): Promise<number>;
  /** Writes one piece at a position (checkpoint chunks may arrive out of order or twice). */
  writeAt(id: string, position: number, data: Uint8Array): Promise<void>;
  /** Verifies the upload against `expect` and moves it into the store (or drops it on a mismatch). */
  finish(id: string, expect: BlobExpect): Promise<StoredBlob>;
  abort(id: string): Promise<void>;
  /** The bytes received so far, as a stream. */
  read(id: string): AsyncIterable<Buffer>;
  /** Removes uploads nobody wrote to for `maxAgeMs` (abandoned by their clients); returns how many. */
  expire(maxAgeMs: number): Promise<number>;
};

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** hash states of uploads this process is receiving, so finishing one needs no second read */
const MAX_HASH_STATES = 1000;

function checkDigest(digest: string): string {
  if (!DigestSchema.safeParse(digest).success) throw new AppError("BAD_REQUEST", `"${digest.slice(0, 80)}" is not a SHA-256 digest`);
  return digest;
}
function checkUploadId(id: string): string {
  if (!UPLOAD_ID.test(id)) throw new AppError("BAD_REQUEST", `"${id.slice(0, 80)}" is not an upload id`);
  return id;
}
const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/** Counts and hashes what passes; refuses (without passing it on) anything past `limit`. */
function meter(hash: crypto.Hash | null, start: number, limit: number) {
  let total = start;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (total + chunk.length > limit) return done(new AppError("PAYLOAD_TOO_LARGE", `more than the ${limit} bytes announced were sent`));
      total += chunk.length;
      hash?.update(chunk);
      done(null, chunk);
    },
  });
  return { stream: t, total: () => total };
}

/**
 * The filesystem store under `root` (HERON_HOME/blobs): blobs at `ab/cd/<digest>`, uploads in
 * `uploads/`, temporary files in `tmp/`, all on one filesystem so a finished file moves into
 * place with an atomic rename. Several server processes share it through one volume.
 */
// Long because it is the one implementation of the interface above: put, reads, deletion and
// the upload area share its paths and the per-upload hash states.
export function createFsBlobStore(root: string): BlobStore {
  const dirs = { tmp: path.join(root, "tmp"), uploads: path.join(root, "uploads"), trash: path.join(root, "trash") };
  const ready = Promise.all(Object.values(dirs).map((d) => fsp.mkdir(d, { recursive: true })));
  const blobPath = (digest: string) => path.join(root, digest.slice(0, 2), digest.slice(2, 4), checkDigest(digest));
  const uploadPath = (id: string) => path.join(dirs.uploads, checkUploadId(id));
  const hashes = new Map<string, { hash: crypto.Hash; offset: number }>();
  const busy = new Set<string>();

  /** Moves a complete, verified file into its place (a blob already there wins: same bytes). */
  async function place(file: string, digest: string) {
    const dest = blobPath(digest);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.rename(file, dest);
  }

  function verify(got: StoredBlob, expect: BlobExpect) {
    if (expect.bytes !== undefined && got.bytes !== expect.bytes)
      throw new AppError("BAD_REQUEST", `size mismatch: ${expect.bytes} bytes were announced, ${got.bytes} arrived`);
    if (expect.digest !== undefined && got.digest !== expect.digest)
      throw new AppError("BAD_REQUEST", `digest mismatch: the content's SHA-256 is ${got.digest}, not the ${expect.digest} announced`);
  }

  async function hashFile(file: string, upTo?: number): Promise<crypto.Hash> {
    const hash = crypto.createHash("sha256");
    if (upTo === 0) return hash;
    for await (const chunk of fs.createReadStream(file, upTo === undefined ? {} : { end: upTo - 1 })) hash.update(chunk as Buffer);
    return hash;
  }

  async function withUpload<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (busy.has(id)) throw new AppError("CONFLICT", `upload ${id} is receiving another request; retry when it ends`);
    busy.add(id);
    try {
      return await fn();
    } finally {
      busy.delete(id);
    }
  }

  const uploads: UploadArea = {
    async offset(id) {
      try {
        return (await fsp.stat(uploadPath(id))).size;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async create(id) {
      await ready;
      await (await fsp.open(uploadPath(id), "a")).close();
    },
    append(id, offset, source, limit) {
      return withUpload(id, async () => {
        const file = uploadPath(id);
        const size = await uploads.offset(id);
        if (size === null) throw new AppError("NOT_FOUND", `upload ${id} not found (finished, aborted or expired)`);
        if (offset !== size) throw new AppError("CONFLICT", `upload ${id} holds ${size} bytes: resume at offset ${size}, not ${offset}`);
        let state = hashes.get(id);
        // another process (or a broken request) wrote the prefix: hash it from disk once
        if (!state || state.offset !== size) state = { hash: await hashFile(file, size), offset: size };
        hashes.delete(id);
        const m = meter(state.hash, size, limit);
        await pipeline(source, m.stream, fs.createWriteStream(file, { flags: "a" }) as Writable);
        if (hashes.size >= MAX_HASH_STATES) hashes.delete(hashes.keys().next().value!);
        hashes.set(id, { hash: state.hash, offset: m.total() });
        return m.total();
      });
    },
    async writeAt(id, position, data) {
      await ready;
      hashes.delete(id);
      const fh = await fsp.open(uploadPath(id), fs.constants.O_WRONLY | fs.constants.O_CREAT);
      try {
        await fh.write(data, 0, data.byteLength, position);
      } finally {
        await fh.close();
      }
    },
    finish(id, expect) {
      return withUpload(id, async () => {
        const file = uploadPath(id);
        const size = await uploads.offset(id);
        if (size === null) throw new AppError("NOT_FOUND", `upload ${id} not found (finished, aborted or expired)`);
        const state = hashes.get(id);
        hashes.delete(id);
        const hash = state && state.offset === size ? state.hash : await hashFile(file);
        const got = { digest: hash.digest("hex"), bytes: size };
        try {
          verify(got, expect);
        } catch (err) {
          await fsp.rm(file, { force: true });
          throw err;
        }
        await expect.beforePlace?.(got);
        await place(file, got.digest);
        return got;
      });
    },
    async abort(id) {
      hashes.delete(id);
      await fsp.rm(uploadPath(id), { force: true });
    },
    read(id) {
      return fs.createReadStream(uploadPath(id), { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    },
    async expire(maxAgeMs) {
      await ready;
      const cutoff = Date.now() - maxAgeMs;
      let removed = 0;
      for (const dir of [dirs.uploads, dirs.tmp, dirs.trash]) {
        for (const name of await fsp.readdir(dir)) {
          const st = await fsp.stat(path.join(dir, name)).catch(() => null);
          if (!st || st.mtimeMs >= cutoff || busy.has(name)) continue;
          hashes.delete(name);
          await fsp.rm(path.join(dir, name), { force: true });
          removed++;
        }
      }
      return removed;
    },
  };

  return {
    async put(source, expect = {}) {
      await ready;
      const tmp = path.join(dirs.tmp, crypto.randomBytes(12).toString("hex"));
      const hash = crypto.createHash("sha256");
      const m = meter(hash, 0, expect.bytes ?? Number.MAX_SAFE_INTEGER);
      try {
        await pipeline(source, m.stream, fs.createWriteStream(tmp) as Writable);
        const got = { digest: hash.digest("hex"), bytes: m.total() };
        verify(got, expect);
        await expect.beforePlace?.(got);
        await place(tmp, got.digest);
        return got;
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    },
    async has(digest) {
      return (await this.stat(digest)) !== null;
    },
    async stat(digest) {
      try {
        return { bytes: (await fsp.stat(blobPath(digest))).size };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async open(digest, range) {
      const file = blobPath(digest);
      // open first: a missing blob is a clear NOT_FOUND before any byte is promised
      const fh = await fsp.open(file, "r").catch((err: unknown) => {
        if (isMissing(err)) throw new AppError("NOT_FOUND", `blob ${digest} is not stored`);
        throw err;
      });
      return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
    },
    async delete(digest, stillWanted) {
      const file = blobPath(digest);
      const parked = path.join(dirs.trash, `${digest}.${crypto.randomBytes(6).toString("hex")}`);
      await ready;
      try {
        await fsp.rename(file, parked);
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
      if (stillWanted && (await stillWanted())) {
        // re-uploaded meanwhile: whichever copy is in place now has the same bytes
        if (await this.has(digest)) await fsp.rm(parked, { force: true });
        else await fsp.rename(parked, file);
        return false;
      }
      await fsp.rm(parked, { force: true });
      return true;
    },
    uploads,
  };
}

/** A readable over a buffer, for callers that hold small pieces already (checkpoint chunks, tests). */
export const readableOf = (data: Uint8Array) => Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
