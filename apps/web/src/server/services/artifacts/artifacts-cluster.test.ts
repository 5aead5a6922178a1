// Two server processes on one database and one shared blob volume: an upload started on one
// and broken halfway resumes on the other, and a version committed there downloads from the first.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { createArtifactClient, fetchVersion } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { postgresAvailable, redisAvailable, startServerProcesses } from "../../../testing/harness";

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const ready = (await postgresAvailable()) && (await redisAvailable());

describe.runIf(ready)("artifacts across server processes", () => {
  let cluster: Awaited<ReturnType<typeof startServerProcesses>>;
  let work: string;

  beforeAll(async () => {
    cluster = await startServerProcesses(2);
    await cluster.servers[0]!.api.project.create.mutate({ name: "shared" });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "heron-art-cluster-"));
  });
  afterAll(async () => {
    await cluster?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("resumes on B an upload broken on A, and serves from A what was committed on B", async () => {
    const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];
    const data = crypto.randomBytes(2 * 1024 * 1024 + 5);
    const file = path.join(work, "w.bin");
    fs.writeFileSync(file, data);
    const headers = { authorization: `Bearer ${a.key}`, "content-type": "application/json" };
    const start = await fetch(`${a.url}/api/artifacts/uploads`, {
      method: "POST",
      headers,
      body: JSON.stringify({ projectId: "shared", digest: sha(data), bytes: data.length }),
    });
    const { uploadId } = (await start.json()) as { uploadId: string };
    const u = new URL(a.url);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: "PUT",
        path: `/api/artifacts/uploads/${uploadId}`,
        headers: { ...headers, "upload-offset": "0", "content-length": String(data.length) },
      });
      req.on("error", () => resolve());
      req.write(data.subarray(0, data.length / 2), () => setTimeout(() => (req.destroy(), resolve()), 300));
    });
    const onB = createArtifactClient({ host: b.url, apiKey: b.key });
    const r = await onB.uploadBlob("shared", file, { digest: sha(data), bytes: data.length });
    expect(r.resumedFrom).toBeGreaterThan(0);
    const v = await onB.commit({ projectId: "shared", name: "shared-model", type: "model", files: [{ path: "w.bin", digest: sha(data), bytes: data.length }] });
    const onA = createArtifactClient({ host: a.url, apiKey: a.key });
    const folder = await fetchVersion(onA, await onA.resolve("shared", "shared-model:latest"), path.join(work, "cache"));
    expect(sha(fs.readFileSync(path.join(folder, "w.bin")))).toBe(v.files[0]!.digest);
  });
});
