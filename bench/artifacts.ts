// Artifact transfer speed: one file uploaded to and downloaded from a server by the client
// users install (@heron/sdk's dist, built by bench/run.ts; a child process, as a user's
// script would be), against a plain streamed file copy on the same disk in the same run.
// Upload = resumable upload + the server's SHA-256 check + the commit; download = the
// transfer into the local cache with the client's SHA-256 check. Last line: one JSON object.
//   ARTIFACTS_BENCH_MB (default 200)   ARTIFACTS_BENCH_ROUNDS (default 2)
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { startBenchServer } from "./helpers/bench-server";

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.ARTIFACTS_BENCH_MB ?? 200);
const ROUNDS = Number(process.env.ARTIFACTS_BENCH_ROUNDS ?? 2);
const CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../apps/web/src/testing/artifact-transfer.ts");

const { server, home, key } = await startBenchServer("art");
await fetch(`${server.url}/api/trpc/project.create`, {
  method: "POST",
  headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
  body: JSON.stringify({ json: { name: "bench" } }),
});

function makeFile(file: string) {
  const fd = fs.openSync(file, "w");
  for (let i = 0; i < SIZE_MB; i++) fs.writeSync(fd, crypto.randomBytes(MB));
  fs.closeSync(fd);
}

/** the baseline: a streamed copy (read and write through userland, as the server does), fsync'd like a stored blob */
async function plainCopy(src: string, dest: string): Promise<number> {
  const t = performance.now();
  await pipeline(fs.createReadStream(src, { highWaterMark: MB }), fs.createWriteStream(dest));
  const fd = fs.openSync(dest, "r");
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return performance.now() - t;
}

const mbps = (ms: number) => SIZE_MB / (ms / 1000);
const rounds: { copy: number; upload: number; download: number; clientRssMb: number }[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    // a new file each round: the same content again would be deduplicated, not sent
    const file = path.join(home, `payload-${r}.bin`);
    makeFile(file);
    const copy = await plainCopy(file, path.join(home, `copy-${r}.bin`));
    const input = { host: server.url, key, project: "bench", file, cacheDir: path.join(home, `cache-${r}`), name: `bench-${r}` };
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(input)], { maxBuffer: MB });
    const t = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      uploadMs: number;
      downloadMs: number;
      digest: string;
      downloadedDigest: string;
      rssBaseline: number;
      rssPeak: number;
    };
    if (t.digest !== t.downloadedDigest) throw new Error("the downloaded file's digest differs from the uploaded one");
    rounds.push({ copy, upload: t.uploadMs, download: t.downloadMs, clientRssMb: (t.rssPeak - t.rssBaseline) / MB });
    console.log(
      `round ${r + 1}: copy ${mbps(copy).toFixed(0)} MB/s, upload ${mbps(t.uploadMs).toFixed(0)} MB/s, download ${mbps(t.downloadMs).toFixed(0)} MB/s, client RSS +${rounds.at(-1)!.clientRssMb.toFixed(1)} MB`,
    );
    for (const f of [file, path.join(home, `copy-${r}.bin`)]) fs.rmSync(f, { force: true });
    fs.rmSync(input.cacheDir, { recursive: true, force: true });
  }
} finally {
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
}
const sum = (k: "copy" | "upload" | "download") => rounds.reduce((s, x) => s + x[k], 0);
const copyMbps = (SIZE_MB * ROUNDS) / (sum("copy") / 1000);
const uploadMbps = (SIZE_MB * ROUNDS) / (sum("upload") / 1000);
const downloadMbps = (SIZE_MB * ROUNDS) / (sum("download") / 1000);
console.log(
  JSON.stringify({
    bench: "artifacts",
    mb: SIZE_MB,
    rounds: ROUNDS,
    copy_mb_s: Math.round(copyMbps),
    upload_mb_s: Math.round(uploadMbps),
    download_mb_s: Math.round(downloadMbps),
    upload_ratio: Number((uploadMbps / copyMbps).toFixed(3)),
    download_ratio: Number((downloadMbps / copyMbps).toFixed(3)),
    client_rss_growth_mb: Number(Math.max(...rounds.map((x) => x.clientRssMb)).toFixed(1)),
    load: os.loadavg()[0]!.toFixed(1),
  }),
);
