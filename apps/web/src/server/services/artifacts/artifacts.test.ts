// Artifacts through the real server and the SDK: dedup, versions, aliases and their audit,
// resumable uploads, downloads, offline logging uploaded by `heron sync`, and refusals.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { createArtifactClient, init, syncRunDir } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, postgresAvailable, type Provider, startTestServer, type TestServer } from "../../../testing/harness";
import { addTeamMember } from "../../../testing/team";

const sha = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

/** files under HERON_HOME/blobs/ab/cd/<digest>: the stored copies */
function storedBlobs(home: string): string[] {
  const root = path.join(home, "blobs");
  const out: string[] = [];
  for (const a of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of fs.readdirSync(path.join(root, a))) out.push(...fs.readdirSync(path.join(root, a, b)));
  }
  return out.sort();
}

function raw(url: string, opts: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string }) {
  return fetch(url + opts.path, {
    method: opts.method,
    headers: opts.headers,
    body: typeof opts.body === "string" ? opts.body : opts.body && new Uint8Array(opts.body),
  }).then(async (r) => ({
    status: r.status,
    headers: r.headers,
    body: Buffer.from(await r.arrayBuffer()),
  }));
}

// PostgreSQL too when it is reachable (the service's transactions and unique keys differ per provider)
const providers: Provider[] = ["sqlite", ...((await postgresAvailable()) ? (["postgres"] as const) : [])];

describe.each(providers)("artifacts (%s)", (provider) => {
  let t: TestServer;
  let work: string;
  let prevHome: string | undefined;

  beforeAll(async () => {
    t = await startTestServer(provider, { blobGraceMs: 0 });
    await t.api.project.create.mutate({ name: "arts" });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "heron-art-"));
    prevHome = process.env.HERON_HOME;
    process.env.HERON_HOME = path.join(work, "client-home");
  });
  afterAll(async () => {
    if (prevHome === undefined) delete process.env.HERON_HOME;
    else process.env.HERON_HOME = prevHome;
    await t?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const write = (name: string, content: string | Buffer) => {
    const f = path.join(work, name);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
    return f;
  };

  it("stores the same files logged twice once, and makes no second version of equal files", async () => {
    const run = await init({ project: "arts", host: t.server.url, apiKey: t.key, captureSystem: false, captureConsole: false, captureExit: false });
    const dir = path.join(work, "model-a");
    write("model-a/weights.bin", crypto.randomBytes(300_000));
    write("model-a/config/model.json", JSON.stringify({ layers: [784, 10] }));
    const before = storedBlobs(t.home).length;
    const first = await run.logArtifact({ name: "mnist-mlp", type: "model", dir, metadata: { acc: 0.97 } });
    const second = await run.logArtifact({ name: "mnist-mlp", type: "model", dir });
    expect(first.version).toBe("v0");
    expect(second).toMatchObject({ version: "v0", digest: first.digest });
    // a copy under another name dedups too: one stored copy per content, across artifacts
    const other = await run.logArtifact({ name: "mnist-mlp-copy", type: "model", files: { "w.bin": path.join(dir, "weights.bin") } });
    expect(other.version).toBe("v0");
    expect(storedBlobs(t.home).length - before).toBe(2);
    write("model-a/weights.bin", crypto.randomBytes(1000));
    expect((await run.logArtifact({ name: "mnist-mlp", type: "model", dir })).version).toBe("v1");

    const got = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 0 });
    expect(got.files.map((f) => f.path)).toEqual(["config/model.json", "weights.bin"]);
    expect(got.metadata).toEqual({ acc: 0.97 });
    expect(got.producer?.id).toBe(run.id);
    expect(got.versions.map((v) => [v.version, v.aliases])).toEqual([
      [1, ["latest"]],
      [0, []],
    ]);
    const list = await t.api.artifact.list.query({ projectId: "arts", type: "model" });
    expect(list.find((a) => a.name === "mnist-mlp")).toMatchObject({ versions: 2, aliases: { latest: "v1" } });

    // useArtifact: downloaded into the cache (verified), the use recorded; a second use fetches nothing
    const folder = await run.useArtifact("mnist-mlp:v0");
    expect(JSON.parse(fs.readFileSync(path.join(folder, "config/model.json"), "utf8"))).toEqual({ layers: [784, 10] });
    expect(sha(fs.readFileSync(path.join(folder, "weights.bin")))).toBe(got.files.find((f) => f.path === "weights.bin")!.digest);
    expect(await run.useArtifact("mnist-mlp:v0")).toBe(folder);
    const used = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 0 });
    expect(used.uses).toHaveLength(1);
    expect(used.uses[0]!.runId).toBe(run.id);
    await run.finish();
  });

  it("serves files with their length, type, digest and ranges, and refuses paths outside the artifact", async () => {
    const v = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 0 });
    const auth = { authorization: `Bearer ${t.key}` };
    const json = await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/config/model.json`, headers: auth });
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(json.headers.get("content-length")).toBe(String(v.files[0]!.bytes));
    expect(json.headers.get("x-heron-digest")).toBe(`sha256=${v.files[0]!.digest}`);
    const part = await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/config/model.json`, headers: { ...auth, range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe(json.body.subarray(2, 6).toString());
    for (const p of ["..%2F..%2Fetc%2Fpasswd", "config/..%2F..%2Fx", "%2Fetc%2Fpasswd", "a%5Cb"]) {
      const r = await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/${p}`, headers: auth });
      expect(r.status, p).toBe(400);
      expect(r.body.toString()).toMatch(/file path/);
    }
    expect((await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/nope.bin`, headers: auth })).status).toBe(404);
    expect((await raw(t.server.url, { method: "GET", path: `/api/artifacts/unknown-version/files/a`, headers: auth })).status).toBe(404);
    expect((await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/config/model.json` })).status).toBe(401);
  });

  it("refuses a wrong digest, more bytes than announced, unsafe names and unknown uploads", async () => {
    const auth = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
    const data = Buffer.from("hello artifacts");
    const start = await raw(t.server.url, {
      method: "POST",
      path: "/api/artifacts/uploads",
      headers: auth,
      body: JSON.stringify({ projectId: "arts", digest: sha("other"), bytes: data.length }),
    });
    const { uploadId } = JSON.parse(start.body.toString()) as { uploadId: string };
    const put = await raw(t.server.url, {
      method: "PUT",
      path: `/api/artifacts/uploads/${uploadId}`,
      headers: { ...auth, "upload-offset": "0", "content-type": "application/octet-stream" },
      body: data,
    });
    expect(put.status).toBe(400);
    expect(put.body.toString()).toMatch(/digest mismatch/);
    expect((await raw(t.server.url, { method: "GET", path: `/api/artifacts/uploads/${uploadId}`, headers: auth })).status).toBe(404);

    const s2 = await raw(t.server.url, {
      method: "POST",
      path: "/api/artifacts/uploads",
      headers: auth,
      body: JSON.stringify({ projectId: "arts", digest: sha(data), bytes: 4 }),
    });
    const id2 = (JSON.parse(s2.body.toString()) as { uploadId: string }).uploadId;
    const big = await raw(t.server.url, { method: "PUT", path: `/api/artifacts/uploads/${id2}`, headers: { ...auth, "upload-offset": "0" }, body: data });
    expect(big.status).toBe(413);
    const wrongOffset = await raw(t.server.url, {
      method: "PUT",
      path: `/api/artifacts/uploads/${id2}`,
      headers: { ...auth, "upload-offset": "99" },
      body: "x",
    });
    expect(wrongOffset.status).toBe(409);
    expect(wrongOffset.body.toString()).toMatch(/resume at offset/);

    const commit = (files: unknown) =>
      raw(t.server.url, {
        method: "POST",
        path: "/api/artifacts/versions",
        headers: auth,
        body: JSON.stringify({ projectId: "arts", name: "bad", type: "file", files }),
      });
    for (const p of ["../escape", "/abs", "a/../../b", "a\\b", "a//b", "./a"]) {
      const r = await commit([{ path: p, digest: sha(data), bytes: data.length }]);
      expect(r.status, p).toBe(400);
    }
    const missing = await commit([{ path: "never-uploaded.bin", digest: sha("never"), bytes: 5 }]);
    expect(missing.status).toBe(409);
    expect(missing.body.toString()).toMatch(/not stored/);
    expect((await raw(t.server.url, { method: "GET", path: "/api/artifacts/uploads/up_" + "0".repeat(32), headers: auth })).status).toBe(404);
    expect((await raw(t.server.url, { method: "GET", path: "/api/artifacts/resolve?projectId=arts&ref=nope:production", headers: auth })).status).toBe(404);
    await expect(t.api.artifact.setAlias.mutate({ artifactVersionId: "missing", alias: "production" })).rejects.toThrow(/not found/);
  });

  it("resumes an upload broken halfway from the offset the server holds", async () => {
    const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const file = write("resume.bin", data);
    const digest = sha(data);
    const auth = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
    const start = await raw(t.server.url, {
      method: "POST",
      path: "/api/artifacts/uploads",
      headers: auth,
      body: JSON.stringify({ projectId: "arts", digest, bytes: data.length }),
    });
    const { uploadId } = JSON.parse(start.body.toString()) as { uploadId: string };
    // half the bytes, then the connection drops
    const u = new URL(t.server.url);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: "PUT",
        path: `/api/artifacts/uploads/${uploadId}`,
        headers: { ...auth, "upload-offset": "0", "content-length": String(data.length) },
      });
      req.on("error", () => resolve());
      req.write(data.subarray(0, data.length / 2), () => setTimeout(() => (req.destroy(), resolve()), 300));
    });
    const held = await raw(t.server.url, { method: "GET", path: `/api/artifacts/uploads/${uploadId}`, headers: auth });
    const { offset } = JSON.parse(held.body.toString()) as { offset: number };
    expect(offset).toBeGreaterThan(0);
    const client = createArtifactClient({ host: t.server.url, apiKey: t.key });
    const r = await client.uploadBlob("arts", file, { digest, bytes: data.length });
    expect(r.resumedFrom).toBe(offset);
    expect(r.sent).toBe(data.length - offset);
    const v = await client.commit({ projectId: "arts", name: "resumed", type: "file", files: [{ path: "resume.bin", digest, bytes: data.length }] });
    const back = await raw(t.server.url, { method: "GET", path: `/api/artifacts/${v.id}/files/resume.bin`, headers: auth });
    expect(sha(back.body)).toBe(digest);
  });

  it("uploads an offline run's artifact at heron sync", async () => {
    const dir = path.join(work, "offline-run");
    const run = await init({
      project: "arts",
      host: t.server.url,
      apiKey: t.key,
      mode: "offline",
      dir,
      captureSystem: false,
      captureConsole: false,
      captureExit: false,
    });
    write("ds/train.csv", "x,y\n1,2\n");
    const logged = await run.logArtifact({ name: "offline-ds", type: "dataset", dir: path.join(work, "ds") });
    expect(logged.version).toBeNull();
    run.log({ loss: 1 });
    await run.finish();
    await expect(t.api.artifact.get.query({ projectId: "arts", name: "offline-ds" })).rejects.toThrow(/no artifact/);
    const r = await syncRunDir(dir, { host: t.server.url, apiKey: t.key });
    expect(r.artifacts).toEqual({ sent: [{ name: "offline-ds", version: "v0" }], failed: [] });
    const got = await t.api.artifact.get.query({ projectId: "arts", name: "offline-ds", alias: "latest" });
    expect(got.digest).toBe(logged.digest);
    expect(got.runId).toBe(run.id);
    // a second sync sends nothing again
    expect((await syncRunDir(dir, { host: t.server.url, apiKey: t.key })).artifacts.sent).toEqual([]);
  });

  it("lets maintainers move aliases, refuses members and viewers, and audits each move", async () => {
    const project = await t.api.project.get.query({ project: "arts" });
    const maintainer = await addTeamMember(t, "lead@arts.test", { project: project.id, role: "maintainer" });
    const member = await addTeamMember(t, "dev@arts.test", { project: project.id, role: "member" });
    const v0 = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 0 });
    const v1 = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 1 });
    await expect(createApi(t.server.url, member.key).artifact.setAlias.mutate({ artifactVersionId: v0.id, alias: "production" })).rejects.toThrow(/maintainer/);
    const lead = createApi(t.server.url, maintainer.key);
    await lead.artifact.setAlias.mutate({ artifactVersionId: v0.id, alias: "production" });
    await lead.artifact.setAlias.mutate({ artifactVersionId: v1.id, alias: "production" });
    await expect(lead.artifact.setAlias.mutate({ artifactVersionId: v1.id, alias: "latest" })).rejects.toThrow(/latest/);
    await expect(lead.artifact.setAlias.mutate({ artifactVersionId: v1.id, alias: "v0" })).rejects.toThrow();
    expect((await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", alias: "production" })).version).toBe(1);
    const audit = (await t.api.audit.list.query({})).filter((e) => e.action === "artifact.setAlias");
    expect(audit.map((e) => [e.actor, (e.detail as { from: string | null }).from, (e.detail as { to: string }).to])).toEqual([
      [`user:${maintainer.userId}`, "v0", "v1"],
      [`user:${maintainer.userId}`, null, "v0"],
    ]);
    // members may log (commit) but not name aliases on the way
    const client = createArtifactClient({ host: t.server.url, apiKey: member.key, retries: 0 });
    const f = v0.files[0]!;
    await expect(client.commit({ projectId: "arts", name: "mnist-mlp", type: "model", files: [f], aliases: ["production"] })).rejects.toThrow(/maintainer/);
  });

  it("holds the raw routes to the policy table: viewers download, members upload, outsiders and other projects' jobs get nothing", async () => {
    const project = await t.api.project.get.query({ project: "arts" });
    const viewer = await addTeamMember(t, "viewer@arts.test", { project: project.id, role: "viewer" });
    const outsider = await addTeamMember(t, "outsider@arts.test");
    const v = await t.api.artifact.get.query({ projectId: "arts", name: "mnist-mlp", version: 0 });
    const file = `/api/artifacts/${v.id}/files/config/model.json`;
    const as = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
    expect((await raw(t.server.url, { method: "GET", path: file, headers: as(viewer.key) })).status).toBe(200);
    const refused = await raw(t.server.url, { method: "GET", path: file, headers: as(outsider.key) });
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toMatch(/not a member/);
    const upload = JSON.stringify({ projectId: "arts", digest: sha("x"), bytes: 1 });
    const viewerUpload = await raw(t.server.url, { method: "POST", path: "/api/artifacts/uploads", headers: as(viewer.key), body: upload });
    expect(viewerUpload.status).toBe(403);
    expect(viewerUpload.body.toString()).toMatch(/member/);
    // a cookie never carries a write (no cross-site writes)
    const cookieWrite = await raw(t.server.url, {
      method: "POST",
      path: "/api/artifacts/uploads",
      headers: { cookie: "heron_session=x", "content-type": "application/json" },
      body: upload,
    });
    expect(cookieWrite.status).toBe(401);
    // a job's token reaches its own project only
    await t.api.project.create.mutate({ name: "arts-other" });
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "arts-other",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 },
    });
    const runner = await t.api.runner.createToken.mutate({ name: "arts-runner" });
    const sock = await t.connect(runner.token);
    await sock.emitWithAck("runner:hello", {
      v: PROTOCOL_VERSION,
      name: "arts-runner",
      hostname: "h",
      cpus: 1,
      memoryBytes: 1,
      backend: "wasm",
      slots: 1,
      queues: ["default"],
    });
    const claim = await sock.emitWithAck("runner:claim", { v: PROTOCOL_VERSION });
    const lease = claim.ok ? claim.lease : null;
    expect(lease?.jobId).toBe(jobId);
    const jobFile = await raw(t.server.url, { method: "GET", path: file, headers: as(lease!.jobToken) });
    expect(jobFile.status).toBe(403);
    expect(jobFile.body.toString()).toMatch(/another project/);
  });
});
