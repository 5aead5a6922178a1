// Walks the whole policy table against a real server: every procedure is called by every kind
// of caller, and each must be refused (FORBIDDEN) exactly when the table says so.
import crypto from "node:crypto";

import { PROTOCOL_VERSION } from "@heron/core";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, startTestServer, type TestServer } from "../../testing/harness";
import { addTeamMember } from "../../testing/team";
import { appRouter } from "../routers";
import { EVENT_POLICY, PROCEDURE_POLICY, type Rule } from "./policy";
import { type ProjectRole, roleAtLeast, type Scope, scopeAtLeast } from "./principal";

/** one artifact version in the walked project, made through the HTTP upload and commit routes */
async function seedArtifact(t: TestServer, projectId: string): Promise<string> {
  const data = Buffer.from("walked artifact");
  const digest = crypto.createHash("sha256").update(data).digest("hex");
  const headers = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
  const start = (await (
    await fetch(`${t.server.url}/api/artifacts/uploads`, { method: "POST", headers, body: JSON.stringify({ projectId, digest, bytes: data.length }) })
  ).json()) as { uploadId: string };
  await fetch(`${t.server.url}/api/artifacts/uploads/${start.uploadId}`, {
    method: "PUT",
    headers: { ...headers, "upload-offset": "0" },
    body: new Uint8Array(data),
  });
  const v = (await (
    await fetch(`${t.server.url}/api/artifacts/versions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ projectId, name: "walked", type: "file", files: [{ path: "a.txt", digest, bytes: data.length }] }),
    })
  ).json()) as { id: string };
  return v.id;
}

type Caller = { name: string; key: string; admin: boolean; role: ProjectRole | null; scope: Scope };

/** What the table promises for one caller (an oracle written apart from authorize.ts). */
function expectedAllowed(rule: Rule, c: Caller): boolean {
  if (!rule.principals.includes("user")) return false;
  if (rule.scope && !scopeAtLeast(c.scope, rule.scope)) return false;
  if (rule.admin && !c.admin) return false;
  if (rule.role && rule.target && !c.admin && !roleAtLeast(c.role, rule.role)) return false;
  // the walked job was submitted by someone else
  if (rule.ownJob && !c.admin && !roleAtLeast(c.role, "maintainer")) return false;
  return true;
}

describe("policy table", () => {
  let t: TestServer;
  const callers: Caller[] = [];
  let ids: { project: string; runId: string; jobId: string; sweepId: string; versionId: string };

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    const project = await t.api.project.create.mutate({ name: "walk" });
    const s = await t.connect();
    const init = await s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "walk", name: "r" });
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "walk",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 },
    });
    // paused at once: its trials never reach a runner, and an allowed pause/cancel is harmless
    const { sweepId } = await t.api.sweep.create.mutate({
      projectId: project.id,
      sweep: {
        method: "grid",
        metric: { name: "test/accuracy", goal: "maximize" },
        parameters: { lr: { values: [0.01] } },
        spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 },
      },
    });
    await t.api.sweep.pause.mutate({ sweepId });
    const versionId = await seedArtifact(t, project.id);
    ids = { project: project.id, runId: init.ok ? init.runId : "", jobId, sweepId, versionId };
    callers.push({ name: "bootstrap admin", key: t.key, admin: true, role: null, scope: "admin" });
    for (const role of ["viewer", "member", "maintainer"] as const) {
      const m = await addTeamMember(t, `${role}@walk.test`, { project: project.id, role });
      callers.push({ name: role, key: m.key, admin: false, role, scope: "admin" });
    }
    const outsider = await addTeamMember(t, "outsider@walk.test");
    callers.push({ name: "outsider", key: outsider.key, admin: false, role: null, scope: "admin" });
    const reader = await addTeamMember(t, "reader@walk.test", { project: project.id, role: "maintainer", scope: "read" });
    callers.push({ name: "maintainer with a read key", key: reader.key, admin: false, role: "maintainer", scope: "read" });
    const writer = await addTeamMember(t, "writer@walk.test", { project: project.id, role: "maintainer", scope: "write" });
    callers.push({ name: "maintainer with a write key", key: writer.key, admin: false, role: "maintainer", scope: "write" });
    const admin = await addTeamMember(t, "admin@walk.test", { admin: true });
    callers.push({ name: "instance admin user", key: admin.key, admin: true, role: null, scope: "admin" });
  });
  afterAll(async () => t?.close());

  it("has a rule for every procedure of the router, and none for procedures that do not exist", () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    expect(procedures.filter((p) => !PROCEDURE_POLICY[p])).toEqual([]);
    expect(Object.keys(PROCEDURE_POLICY).filter((p) => !procedures.includes(p))).toEqual([]);
    expect(Object.keys(EVENT_POLICY).length).toBeGreaterThan(10);
  });

  it("refuses each procedure exactly for the callers the table excludes, with a message naming what is missing", async () => {
    // inputs that name the target but are otherwise invalid where a call would change things:
    // an allowed caller gets past authorization and stops at validation (or runs a harmless read)
    const inputs: Record<string, unknown> = {
      "project.get": { project: ids.project },
      "project.members": { projectId: ids.project },
      "project.addMember": { projectId: ids.project, email: "not an email", role: "viewer" },
      "project.removeMember": { projectId: ids.project, email: "not an email" },
      "project.create": { name: "" },
      "run.list": { projectId: ids.project },
      "run.page": { projectId: ids.project, limit: 5 },
      "run.facets": { projectId: ids.project },
      "run.groups": { projectId: ids.project, by: "tag" },
      "run.get": { runId: ids.runId },
      "run.logs": { runId: ids.runId },
      "run.texts": { runId: ids.runId },
      "run.media": { runId: ids.runId },
      "run.mediaData": { runId: ids.runId, id: 0 },
      "run.compareTable": { runIds: [ids.runId] },
      "run.rewind": { runId: ids.runId, step: -1 },
      "run.update": { runId: ids.runId, name: "" },
      "run.archive": { runIds: [ids.runId, ""] },
      "run.unarchive": { runIds: [ids.runId, ""] },
      "run.delete": { runIds: [ids.runId, ""] },
      "run.restore": { runIds: [ids.runId, ""] },
      "run.emptyTrash": { projectId: ids.project },
      "run.move": { runIds: [ids.runId, ""], projectId: ids.project },
      "run.fork": { runId: ids.runId, step: -1 },
      "lineage.get": { runId: ids.runId },
      "metric.keys": { runId: ids.runId },
      "metric.series": { runId: ids.runId, key: "loss" },
      "metric.compare": { runIds: [ids.runId], key: "loss" },
      "metric.summaries": { runIds: [ids.runId] },
      "metric.groupedSeries": { projectId: ids.project, runIds: [ids.runId], key: "loss", by: "tag" },
      "job.submit": { projectId: ids.project, spec: {} },
      "job.get": { jobId: ids.jobId },
      "job.list": { projectId: ids.project },
      "job.events": { jobId: ids.jobId },
      "job.checkpoints": { jobId: ids.jobId },
      "job.cancel": { jobId: ids.jobId },
      "job.retry": { jobId: ids.jobId },
      "sweep.create": { projectId: ids.project, sweep: {} },
      "sweep.get": { sweepId: ids.sweepId },
      "sweep.list": { projectId: ids.project },
      "sweep.pause": { sweepId: ids.sweepId },
      "sweep.resume": { sweepId: ids.sweepId },
      "sweep.cancel": { sweepId: ids.sweepId },
      "alert.list": { projectId: ids.project },
      "alert.deliveries": { projectId: ids.project },
      "alert.create": { projectId: ids.project, name: "", event: "run.failed", webhookUrl: "ftp://x" },
      "alert.update": { projectId: ids.project, ruleId: "missing", name: "" },
      "alert.delete": { projectId: ids.project, ruleId: "missing" },
      "view.list": { projectId: ids.project },
      "view.create": { projectId: ids.project, name: "", state: {} },
      "view.update": { projectId: ids.project, viewId: "missing", name: "" },
      "view.delete": { projectId: ids.project, viewId: "" },
      "runner.get": { runnerId: "missing" },
      "runner.createToken": { name: "" },
      "runner.revoke": { runnerId: "" },
      "user.create": { email: "not an email" },
      "user.setRole": { userId: "x", role: "emperor" },
      "apiKey.create": { name: "" },
      "apiKey.revoke": { id: "" },
      "audit.list": { limit: 0 },
      "artifact.list": { projectId: ids.project },
      "artifact.get": { projectId: ids.project, name: "missing" },
      "artifact.setAlias": { artifactVersionId: ids.versionId, alias: "" },
    };
    const mismatches: string[] = [];
    for (const [path, rule] of Object.entries(PROCEDURE_POLICY)) {
      for (const c of callers) {
        const api = createApi(t.server.url, c.key) as unknown as Record<
          string,
          Record<string, { query(i: unknown): Promise<unknown>; mutate(i: unknown): Promise<unknown> }>
        >;
        const [ns, name] = path.split(".") as [string, string];
        const type = (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[path]!._def.type;
        const input = inputs[path];
        let code = "OK";
        let message = "";
        try {
          await (type === "query" ? api[ns]![name]!.query(input) : api[ns]![name]!.mutate(input));
        } catch (err) {
          code = err instanceof TRPCClientError ? String(err.data?.code) : "THROWN";
          message = (err as Error).message;
        }
        const refused = code === "FORBIDDEN" || code === "UNAUTHORIZED";
        if (refused === expectedAllowed(rule, c)) mismatches.push(`${path} by ${c.name}: got ${code} ${message}`);
        if (code === "FORBIDDEN" && !/needs|restricted|cannot/.test(message)) mismatches.push(`${path} by ${c.name}: unclear message "${message}"`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("refuses runner and job tokens on every procedure", async () => {
    const { token } = await t.api.runner.createToken.mutate({ name: "walker" });
    const api = createApi(t.server.url, token);
    await expect(api.project.list.query()).rejects.toThrow(/runner tokens cannot call project.list/);
    await expect(api.user.me.query()).rejects.toThrow(/runner tokens cannot call/);
  });

  it("lets a member cancel their own job but not another's; a maintainer cancels any", async () => {
    const spec = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 };
    const member = callers.find((c) => c.name === "member")!;
    const maintainer = callers.find((c) => c.name === "maintainer")!;
    const asMember = createApi(t.server.url, member.key);
    const own = await asMember.job.submit.mutate({ projectId: "walk", spec });
    const others = await t.api.job.submit.mutate({ projectId: "walk", spec });
    await expect(asMember.job.cancel.mutate({ jobId: others.jobId })).rejects.toThrow(/another user's job needs the project role "maintainer"/);
    expect((await asMember.job.cancel.mutate({ jobId: own.jobId })).status).toBe("cancelled");
    expect((await createApi(t.server.url, maintainer.key).job.cancel.mutate({ jobId: others.jobId })).status).toBe("cancelled");
    const audit = await t.api.audit.list.query({ limit: 20 });
    expect(audit.filter((e) => e.action === "job.cancelled").map((e) => e.target)).toEqual(expect.arrayContaining([`job:${own.jobId}`, `job:${others.jobId}`]));
  });
});
