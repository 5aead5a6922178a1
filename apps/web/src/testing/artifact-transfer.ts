// One artifact's round trip through a server, as the SDK does it: upload a file (resumable
// upload, digest checked by the server), commit a version, download it into a fresh cache
// (digest checked here). Run as a child process (`tsx artifact-transfer.ts <json>`) it prints
// one JSON line with its timings and its resident memory before (after a 1 MB warm-up) and
// at most during the transfer — the memory test and the artifacts benchmark measure with it.
import fs from "node:fs";
import path from "node:path";

import { createArtifactClient, digestFile, fetchVersion } from "@heron/sdk";

export type TransferInput = { host: string; key: string; project: string; file: string; cacheDir: string; name: string };
export type TransferResult = { bytes: number; digest: string; downloadedDigest: string; uploadMs: number; downloadMs: number };

export async function transfer(i: TransferInput): Promise<TransferResult> {
  const client = createArtifactClient({ host: i.host, apiKey: i.key });
  const { digest, bytes } = await digestFile(i.file);
  let t = performance.now();
  await client.uploadBlob(i.project, i.file, { digest, bytes });
  const v = await client.commit({ projectId: i.project, name: i.name, type: "file", files: [{ path: path.basename(i.file), digest, bytes }] });
  const uploadMs = performance.now() - t;
  t = performance.now();
  const folder = await fetchVersion(client, v, i.cacheDir);
  const downloadMs = performance.now() - t;
  const downloaded = await digestFile(path.join(folder, path.basename(i.file)));
  return { bytes, digest, downloadedDigest: downloaded.digest, uploadMs, downloadMs };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname)) {
  const input = JSON.parse(process.argv[2]!) as TransferInput;
  // warm up on a small file first: the baseline then holds the code paths (fetch, zod, the
  // HTTP agent) loaded, and what is measured is what grows with the artifact's size
  const small = `${input.file}.warmup`;
  fs.writeFileSync(small, Buffer.alloc(1024 * 1024, 7));
  await transfer({ ...input, file: small, name: `${input.name}-warmup` });
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const r = await transfer(input);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  console.log(JSON.stringify({ ...r, rssBaseline: baseline, rssPeak: peak }));
}
