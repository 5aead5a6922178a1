import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type FixedServer, freePort, startFixedServer } from "../../../testing/fixed-server-process";
import { createApi, waitFor } from "../../../testing/harness";
import { createClientVenv, type Exit, lastJson, PY_CLIENT, runProcess } from "../../../testing/python-env";

// The Python client (clients/python) against the real server over HTTP API v1: a fresh venv,
// pip install offline, then its e2e script through a kill -9 of the server.
const E2E = path.join(PY_CLIENT, "tests/e2e_log.py");
const key = "hk_test_" + crypto.randomBytes(12).toString("hex");
let home: string;
let work: string;
let port: number;
let server: FixedServer | null = null;
let venv: Awaited<ReturnType<typeof createClientVenv>>;
/** the client's own unit tests, started at once: they run beside the e2e tests */
let unitTests: Promise<Exit> | null = null;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-py-srv-"));
  work = fs.mkdtempSync(path.join(os.tmpdir(), "heron-py-work-"));
  port = await freePort();
  const [v, s] = await Promise.all([createClientVenv(), startFixedServer(home, port, key)]);
  venv = v;
  server = s;
  if ("python" in venv) unitTests = runProcess("python3", ["-m", "unittest", "discover", "-s", path.join(PY_CLIENT, "tests")], { timeoutMs: 120_000 });
}, 120_000);

afterAll(async () => {
  await server?.kill();
  for (const d of [home, work, "dir" in (venv ?? {}) ? (venv as { dir: string }).dir : null]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

function python(): string {
  if ("skip" in venv) throw new Error("unreachable");
  return venv.python;
}

async function csvRows(runId: string, metric: string): Promise<string[]> {
  const res = await fetch(`${server!.url}/api/runs/${runId}/metrics.csv`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.text()).split("\n").filter((l) => l.startsWith(`"${metric}",`));
}

describe("Python client (heron-client) over HTTP API v1", () => {
  it("logs 20,000 points through a kill -9 and restart of the server: each stored once, run finished", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    const api = createApi(server!.url, key);
    const script = runProcess(python(), [E2E, server!.url, key, "py-e2e", "20000", path.join(work, "runs"), "--rate", "8000", "--finish-timeout", "60"], {
      timeoutMs: 90_000,
    });
    // kill it while the points are flowing: once the run exists and holds some of them
    await waitFor(async () => (await api.run.list.query({ projectId: "py-e2e" }).catch(() => []))[0], 15_000, "the Python run");
    await new Promise((r) => setTimeout(r, 400));
    let exited = false;
    void script.then(() => (exited = true));
    await new Promise((r) => setImmediate(r));
    expect(exited, "the script ended before the server was killed").toBe(false);
    await server!.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    server = await startFixedServer(home, port, key);
    const out = await script;
    expect(out.code, out.stderr).toBe(0);
    const result = lastJson<{ runId: string; ok: boolean }>(out.stdout);
    expect(result.ok).toBe(true);

    const rows = await csvRows(result.runId, "e2e/value");
    expect(rows).toHaveLength(20_000);
    const steps = new Set(rows.map((r) => Number(r.split(",")[1])));
    expect(steps.size).toBe(20_000);
    for (const r of rows) {
      const [, step, value] = r.split(",");
      expect(Number(value)).toBe(Number(step) * 0.5);
    }
    const again = createApi(server.url, key);
    const run = await again.run.get.query({ runId: result.runId });
    expect(run.status).toBe("finished");
    expect(run.config).toMatchObject({ n: 20000, finished_logging: true });
    // texts are not idempotent by key and step the way points are: one text means one delivery
    expect(await again.run.texts.query({ runId: result.runId })).toHaveLength(1);
  }, 90_000);

  it("syncs an offline run later with python -m heron sync", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    const dir = path.join(work, "offline");
    const out = await runProcess(python(), [E2E, server!.url, key, "py-offline", "300", dir, "--mode", "offline"], { timeoutMs: 30_000 });
    expect(out.code, out.stderr).toBe(0);
    const { runId } = lastJson<{ runId: string }>(out.stdout);
    const sync = await runProcess(python(), ["-m", "heron", "sync", dir, "--host", server!.url, "--api-key", key, "--timeout", "30"], { timeoutMs: 60_000 });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(await csvRows(runId, "e2e/value")).toHaveLength(300);
    expect((await createApi(server!.url, key).run.get.query({ runId })).status).toBe("finished");
  }, 60_000);

  it("returns from finish(timeout=2) in time while the server is down", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    const dead = await freePort();
    const code = [
      "import json, time, heron",
      `run = heron.init(project="py-down", host="http://127.0.0.1:${dead}", api_key="${key}", dir=${JSON.stringify(path.join(work, "down"))}, capture_console=False, capture_system=False, init_timeout=0.5)`,
      "for i in range(1000): heron.log({'x': i}, step=i)",
      "t = time.monotonic(); ok = heron.finish(timeout=2); print(json.dumps({'ok': ok, 's': time.monotonic() - t}))",
    ].join("\n");
    const out = await runProcess(python(), ["-c", code], { timeoutMs: 30_000 });
    expect(out.code, out.stderr).toBe(0);
    const r = lastJson<{ ok: boolean; s: number }>(out.stdout);
    expect(r.ok).toBe(false);
    expect(r.s).toBeLessThan(3);
  }, 40_000);

  it("passes the client's own unit tests (python3 -m unittest)", async (ctx) => {
    if (!unitTests) return ctx.skip("skip" in venv ? venv.skip : "no python");
    const out = await unitTests;
    expect(out.code, out.stderr.slice(-4000)).toBe(0);
  }, 120_000);
});
