import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";

import { ArtifactPathSchema, manifestText, MAX_ARTIFACT_FILES } from "@heron/core";

import type { ArtifactClient, Progress } from "./client";
import type { ArtifactFileEntry, ArtifactVersionInfo } from "./types";

/** SHA-256 and size of a local file, streamed (never read whole). */
export async function digestFile(file: string): Promise<{ digest: string; bytes: number }> {
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest("hex"), bytes };
}

export const manifestDigest = (files: readonly ArtifactFileEntry[]) => crypto.createHash("sha256").update(manifestText(files)).digest("hex");

/** `files`: local paths (stored under their base names) or {artifact path: local path}; `dir`: a folder, recursively. */
export type ArtifactSources = { files?: string[] | Record<string, string>; dir?: string };
export type LocalFile = ArtifactFileEntry & { source: string };

function walk(dir: string, rel = ""): { path: string; source: string }[] {
  const out: { path: string; source: string }[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push({ path: r, source: path.join(dir, r) });
    if (out.length > MAX_ARTIFACT_FILES) throw new Error(`${dir} holds more than ${MAX_ARTIFACT_FILES} files`);
  }
  return out;
}

/** The files an artifact will hold, hashed. Throws with what is wrong (a bad path, a missing file, no files). */
export async function collectFiles(src: ArtifactSources): Promise<LocalFile[]> {
  const listed: { path: string; source: string }[] = [];
  if (Array.isArray(src.files)) for (const f of src.files) listed.push({ path: path.basename(f), source: f });
  else if (src.files) for (const [p, f] of Object.entries(src.files)) listed.push({ path: p, source: f });
  if (src.dir) listed.push(...walk(path.resolve(src.dir)));
  if (!listed.length) throw new Error("an artifact needs at least one file (files or dir)");
  const seen = new Set<string>();
  const out: LocalFile[] = [];
  for (const f of listed) {
    const ok = ArtifactPathSchema.safeParse(f.path);
    if (!ok.success) throw new Error(`artifact file path "${f.path}": ${ok.error.issues[0]?.message}`);
    if (seen.has(f.path)) throw new Error(`two files would be stored as "${f.path}"`);
    seen.add(f.path);
    const source = path.resolve(f.source);
    if (!fs.statSync(source).isFile()) throw new Error(`${source} is not a file`);
    out.push({ path: f.path, source, ...(await digestFile(source)) });
  }
  return out;
}

/**
 * Local copies of artifact versions under `root` (HERON_HOME/artifacts): `blobs/ab/cd/<digest>`
 * holds each content once (verified when written), `versions/<versionId>/<path>` the version's
 * folder as hard links to them (copies where links fail). A file already cached is not fetched again.
 */
export async function fetchVersion(
  client: ArtifactClient,
  v: ArtifactVersionInfo,
  root: string,
  onProgress?: (file: string, done: number) => void,
): Promise<string> {
  const folder = path.join(root, "versions", v.id);
  for (const f of v.files) {
    // paths came from the network: validated again, and contained in the folder
    if (!ArtifactPathSchema.safeParse(f.path).success) throw new Error(`the server sent an unsafe file path "${f.path.slice(0, 100)}"`);
    const dest = path.resolve(folder, ...f.path.split("/"));
    if (!dest.startsWith(folder + path.sep)) throw new Error(`the server sent a file path outside the artifact: "${f.path.slice(0, 100)}"`);
    const blob = path.join(root, "blobs", f.digest.slice(0, 2), f.digest.slice(2, 4), f.digest);
    if (!fs.existsSync(blob)) await download(client, v.id, f, blob, (n) => onProgress?.(f.path, n));
    else onProgress?.(f.path, f.bytes);
    if (fs.existsSync(dest) && fs.statSync(dest).size === f.bytes) continue;
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.rm(dest, { force: true });
    await fsp.link(blob, dest).catch(() => fsp.copyFile(blob, dest));
  }
  return folder;
}

async function download(client: ArtifactClient, versionId: string, f: ArtifactFileEntry, blob: string, onProgress?: Progress) {
  await fsp.mkdir(path.dirname(blob), { recursive: true });
  const tmp = `${blob}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.part`;
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  try {
    const { body } = await client.openFile(versionId, f.path);
    async function* verify(source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        bytes += chunk.byteLength;
        if (bytes > f.bytes) throw new Error(`${f.path}: the server sent more than the ${f.bytes} bytes announced`);
        hash.update(chunk);
        onProgress?.(bytes);
        yield chunk;
      }
    }
    await pipeline(body, verify, fs.createWriteStream(tmp));
    const digest = hash.digest("hex");
    if (bytes !== f.bytes || digest !== f.digest)
      throw new Error(`${f.path}: downloaded ${bytes} bytes with SHA-256 ${digest}, expected ${f.bytes} bytes with ${f.digest}`);
    await fsp.rename(tmp, blob);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
