// Attacks a real server the way a hostile page, a stolen-token holder or a careless client
// would: each test failed on the server before its fix.
import http from "node:http";

import { PROTOCOL_VERSION } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createApi, startTestServer, type TestServer, waitFor } from "../testing/harness";
import { addTeamMember, signIn } from "../testing/team";

/** A raw request (fetch cannot set Host/Origin freely) answering status, headers and body. */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method, headers, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

describe("security", () => {
  let t: TestServer;
  let runId: string;
  let otherRunId: string;
  beforeAll(async () => {
    t = await startTestServer("sqlite", { authLimits: { failuresPerWindow: 5, windowS: 60, blockS: 60 } });
    const s = await t.connect();
    const a = await s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "sec", name: "mine" });
    const b = await s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "sec-other", name: "theirs" });
    runId = a.ok ? a.runId : "";
    otherRunId = b.ok ? b.runId : "";
    s.close();
  });
  afterAll(async () => t?.close());

  it("hands the local key only to requests that name this machine, with no proxy in between", async () => {
    const key = async (headers: Record<string, string>) => JSON.parse((await rawGet(t.server.url, "/api/local-key", headers)).body).key as string | null;
    expect(await key({ Host: `127.0.0.1:${t.server.port}` })).toBe(t.server.localKey);
    expect(await key({ Host: `localhost:${t.server.port}`, Origin: `http://localhost:${t.server.port}` })).toBe(t.server.localKey);
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1
    expect(await key({ Host: `evil.example:${t.server.port}` })).toBeNull();
    expect(await key({ Host: `127.0.0.1:${t.server.port}`, Origin: "http://evil.example" })).toBeNull();
    // a reverse proxy on this host makes every visitor's peer address loopback
    expect(await key({ Host: `127.0.0.1:${t.server.port}`, "X-Forwarded-For": "203.0.113.9" })).toBeNull();
    expect(await key({ Host: `127.0.0.1:${t.server.port}`, Forwarded: "for=203.0.113.9" })).toBeNull();
  });

  it("turns local mode off when told to listen on every interface", async () => {
    const open = await startTestServer("sqlite", { HOST: "0.0.0.0" });
    try {
      const health = JSON.parse((await rawGet(open.server.url, "/api/health")).body);
      expect(health.localMode).toBe(false);
      expect(JSON.parse((await rawGet(open.server.url, "/api/local-key", { Host: `127.0.0.1:${open.server.port}` })).body).key).toBeNull();
    } finally {
      await open.close();
    }
  });

  it("answers a malformed URL at once with 400 instead of hanging", async () => {
    const res = await rawGet(t.server.url, "/api/runs/%ZZ/metrics.csv", { Authorization: `Bearer ${t.key}` });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/malformed/);
  });

  it("sends security headers on every answer", async () => {
    for (const p of ["/api/health", "/api/trpc/project.list", "/nope"]) {
      const res = await rawGet(t.server.url, p);
      expect(res.headers["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    }
  });

  it("takes keys only from the Authorization header, and keeps runner and job tokens out of runs they do not own", async () => {
    expect((await rawGet(t.server.url, `/api/runs/${runId}/metrics.csv?key=${t.key}`)).status).toBe(401);
    expect((await rawGet(t.server.url, `/api/runs/${runId}/metrics.csv`, { Authorization: `Bearer ${t.key}` })).status).toBe(200);
    const { token } = await t.api.runner.createToken.mutate({ name: "nosy" });
    const csv = await rawGet(t.server.url, `/api/runs/${runId}/metrics.csv`, { Authorization: `Bearer ${token}` });
    expect(csv.status).toBe(403);
    const runner = await t.connect(token);
    expect(await runner.emitWithAck("subscribe", { runId })).toEqual({
      ok: false,
      error: expect.stringMatching(/reserved for runner daemons|runner tokens cannot/),
    });
    runner.close();
    // a user sees only their projects' runs
    const outsider = await addTeamMember(t, "outsider@sec.test");
    const asOutsider = createApi(t.server.url, outsider.key);
    expect(await asOutsider.project.list.query()).toEqual([]);
    await expect(asOutsider.run.get.query({ runId })).rejects.toThrow(/needs the project role "viewer"/);
    const sock = await t.connect(outsider.key);
    expect(await sock.emitWithAck("subscribe", { runId: otherRunId })).toEqual({ ok: false, error: expect.stringMatching(/needs the project role "viewer"/) });
    sock.close();
  });

  it("cuts an open socket the moment its key is revoked, and refuses an expired key", async () => {
    const m = await addTeamMember(t, "revoked@sec.test", { project: "sec", role: "member" });
    const keys = await createApi(t.server.url, m.key).apiKey.list.query();
    const sock = await t.connect(m.key);
    const cut = new Promise<void>((resolve) => sock.once("disconnect", () => resolve()));
    await t.api.apiKey.revoke.mutate({ id: keys[0]!.id });
    await cut;
    await expect(createApi(t.server.url, m.key).user.me.query()).rejects.toThrow(/UNAUTHORIZED|missing or invalid/);
    await expect(t.connect(m.key)).rejects.toThrow(/unauthorized/);

    const soon = await t.api.apiKey.create.mutate({ name: "short-lived", userId: m.userId, expiresAt: new Date(Date.now() + 1500) });
    const live = await t.connect(soon.key);
    await waitFor(async () => !live.connected, 5000, "the expired key's socket to be cut");
    await expect(createApi(t.server.url, soon.key).user.me.query()).rejects.toThrow(/missing or invalid/);
    const audit = await t.api.audit.list.query({});
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(["apiKey.created", "apiKey.revoked", "user.created"]));
    expect(JSON.stringify(audit)).not.toContain(soon.key);
  });

  it("signs users in with an httpOnly SameSite cookie, refuses cross-site mutations, and signs out", async () => {
    const u = await addTeamMember(t, "browser@sec.test", { project: "sec", role: "member" });
    const bad = await fetch(`${t.server.url}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: u.email, password: "wrong password" }),
    });
    expect(bad.status).toBe(401);
    const res = await fetch(`${t.server.url}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: u.email, password: "correct horse battery" }),
    });
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/heron_session=hs_[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
    const cookie = setCookie.split(";")[0]!;
    const me = await fetch(`${t.server.url}/api/trpc/user.me`, { headers: { cookie } });
    expect(((await me.json()) as { result: { data: { json: { user: { email: string } } } } }).result.data.json.user.email).toBe(u.email);
    const mutate = (origin: string) =>
      fetch(`${t.server.url}/api/trpc/project.create`, {
        method: "POST",
        headers: { cookie, origin, "content-type": "application/json" },
        body: JSON.stringify({ json: { name: `from-${origin.length}` } }),
      });
    expect((await mutate("http://evil.example")).status).toBe(403);
    expect((await mutate(t.server.url)).status).toBe(200);
    const crossSiteSignIn = await fetch(`${t.server.url}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: "{}",
    });
    expect(crossSiteSignIn.status).toBe(403);
    await fetch(`${t.server.url}/api/auth/sign-out`, { method: "POST", headers: { cookie } });
    expect((await fetch(`${t.server.url}/api/trpc/user.me`, { headers: { cookie } })).status).toBe(401);
    expect(await signIn(t.server.url, u.email)).not.toBe(cookie);
  });

  it("rate-limits failed authentication per address (429), without touching valid keys' answers before the limit", async () => {
    const fresh = await startTestServer("sqlite", { authLimits: { failuresPerWindow: 3, windowS: 60, blockS: 60 } });
    try {
      const wrong = createApi(fresh.server.url, "hk_wrong_key_000000000000");
      for (let i = 0; i < 4; i++) await expect(wrong.user.me.query()).rejects.toThrow(/missing or invalid/);
      await expect(wrong.user.me.query()).rejects.toThrow(/too many failed authentications/);
      const signInRes = await fetch(`${fresh.server.url}/api/auth/sign-in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "a@b.c", password: "x" }),
      });
      expect(signInRes.status).toBe(429);
    } finally {
      await fresh.close();
    }
  });
});
