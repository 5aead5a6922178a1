// A 200 MB artifact goes up and comes back down through a server process with bounded memory:
// the server's and the client's resident set each grow by at most 64 MB, and the digests match.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type ServerProcess, startServerProcess } from "../../../testing/harness";

const MB = 1024 * 1024;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../testing/artifact-transfer.ts");

/** VmRSS of a process, in bytes (Linux /proc) */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

describe.runIf(process.platform === "linux")("artifact memory", () => {
  let server: ServerProcess;
  let work: string;
  const key = "hk_test_" + crypto.randomBytes(12).toString("hex");

  beforeAll(async () => {
    server = await startServerProcess(key, {});
    await server.api.project.create.mutate({ name: "big" });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "heron-big-"));
  });
  afterAll(async () => {
    await server?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("uploads and downloads 200 MB with RSS growth ≤ 64 MB on both ends and matching digests", async () => {
    const file = path.join(work, "weights.bin");
    const fd = fs.openSync(file, "w");
    for (let i = 0; i < 200; i++) fs.writeSync(fd, crypto.randomBytes(MB));
    fs.closeSync(fd);
    // the server settles first: its baseline is taken after a few idle samples
    await new Promise((r) => setTimeout(r, 500));
    const serverBaseline = rssOf(server.child.pid!);
    let serverPeak = serverBaseline;
    const sampler = setInterval(() => (serverPeak = Math.max(serverPeak, rssOf(server.child.pid!))), 20);
    const input = { host: server.url, key, project: "big", file, cacheDir: path.join(work, "cache"), name: "big-model" };
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(input)], { maxBuffer: MB });
    clearInterval(sampler);
    const r = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      bytes: number;
      digest: string;
      downloadedDigest: string;
      rssBaseline: number;
      rssPeak: number;
    };
    expect(r.bytes).toBe(200 * MB);
    expect(r.downloadedDigest).toBe(r.digest);
    const client = (r.rssPeak - r.rssBaseline) / MB;
    const srv = (serverPeak - serverBaseline) / MB;
    console.log(`RSS growth: client ${client.toFixed(1)} MB, server ${srv.toFixed(1)} MB`);
    expect(client).toBeLessThanOrEqual(64);
    expect(srv).toBeLessThanOrEqual(64);
  });
});
