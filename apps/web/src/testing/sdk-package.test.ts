// @heron/sdk as a user gets it: packed, installed from the tarball into a project outside the
// repository, and used from ESM, CommonJS and TypeScript scripts against a real server — and
// with the server unreachable for the whole run, then uploaded by the package's own `heron` bin.
import { execFile } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "./harness";
import { freePort, ROOT } from "./sdk-helpers";
import { installTarball, packSdk, withoutSourceCondition } from "./sdk-package";

const STEPS = 5_000; // two keys a step: 10,000 points a script
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve("tsx")).href;
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");

type Result = { code: number | null; stdout: string; stderr: string; ms: number };

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<Result> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...withoutSourceCondition(process.env), ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}

const lossAt = (step: number) => Math.exp(-step / 1000);

async function expectEveryPoint(t: TestServer, runId: string) {
  const got = await t.api.run.get.query({ runId });
  expect(got.status).toBe("finished");
  const steps = Array.from({ length: STEPS }, (_, i) => i);
  for (const [key, valueAt] of [
    ["train/loss", lossAt],
    ["train/acc", (s: number) => 1 - lossAt(s)],
  ] as const) {
    const s = await t.api.metric.series.query({ runId, key, maxPoints: 100_000 });
    expect(s.bucketed).toBe(false);
    // every step exactly once, with the exact value logged
    expect(s.steps).toEqual(steps);
    expect(s.values.findIndex((v, i) => v !== valueAt(i))).toBe(-1);
  }
}

describe.sequential("@heron/sdk installed from its tarball", () => {
  let t: TestServer;
  let project: string;
  let env: Record<string, string>;
  const cleanups: string[] = [];

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    const packs = fs.mkdtempSync(path.join(os.tmpdir(), "heron-sdk-pack-"));
    cleanups.push(packs);
    project = installTarball(packSdk(packs), { type: "module" });
    cleanups.push(project);
    for (const example of ["log-metrics.mjs", "log-metrics.cjs", "log-metrics.ts"])
      fs.copyFileSync(path.join(ROOT, "packages/sdk/examples", example), path.join(project, example));
    env = { HERON_HOST: t.server.url, HERON_API_KEY: t.key, HERON_HOME: path.join(project, ".heron"), HERON_PROJECT: "sdk-package", STEPS: String(STEPS) };
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    for (const dir of cleanups) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ships built JavaScript and types only, outside the repository", () => {
    expect(path.relative(ROOT, project).startsWith("..")).toBe(true);
    const installed = path.join(project, "node_modules/@heron/sdk");
    expect(fs.existsSync(path.join(installed, "src"))).toBe(false);
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/cli.js"]) expect(fs.existsSync(path.join(installed, f))).toBe(true);
    // nothing of the workspace is imported at run time
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts"])
      expect(fs.readFileSync(path.join(installed, f), "utf8")).not.toMatch(/@heron\/(core|db|runner|web)/);
  });

  it.each([
    ["ESM", ["log-metrics.mjs"]],
    ["CommonJS", ["log-metrics.cjs"]],
    ["TypeScript", ["--import", TSX, "log-metrics.ts"]],
  ])("%s script logs 10,000 points, each arrives exactly once", async (_kind, args) => {
    const r = await run(process.execPath, args, project, env);
    expect(r.code, r.stderr).toBe(0);
    const url = new URL(/logged \d+ steps: (\S+)/.exec(r.stdout)?.[1] ?? "missing:");
    const runId = url.pathname.split("/").pop()!;
    // init printed the run's page (the dashboard's /runs/<id>; its origin is HERON_PUBLIC_URL)
    expect(url.pathname).toBe(`/runs/${runId}`);
    expect(r.stderr).toContain(`[heron] run ${runId}: ${url.href}`);
    await expectEveryPoint(t, runId);
  });

  it("installed from the monorepo path (a link to packages/sdk): the ESM example logs every point", async () => {
    const linked = fs.mkdtempSync(path.join(os.tmpdir(), "heron-sdk-path-"));
    cleanups.push(linked);
    fs.writeFileSync(path.join(linked, "package.json"), JSON.stringify({ name: "heron-sdk-path-user", version: "1.0.0", private: true }));
    const npm = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", path.join(ROOT, "packages/sdk")], linked, {});
    expect(npm.code, npm.stderr).toBe(0);
    fs.copyFileSync(path.join(ROOT, "packages/sdk/examples/log-metrics.mjs"), path.join(linked, "log-metrics.mjs"));
    const r = await run(process.execPath, ["log-metrics.mjs"], linked, { ...env, HERON_HOME: path.join(linked, ".heron") });
    expect(r.code, r.stderr).toBe(0);
    await expectEveryPoint(t, new URL(/logged \d+ steps: (\S+)/.exec(r.stdout)![1]!).pathname.split("/").pop()!);
  });

  it("as a workspace dependency, without the source condition: import and require load the built package", async () => {
    const probe = (code: string, type: string) => run(process.execPath, ["--input-type", type, "-e", code], ROOT, {});
    const esm = await probe(
      `const m = await import("@heron/sdk"); console.log(typeof m.init, typeof m.heronCallback, import.meta.resolve("@heron/sdk"))`,
      "module",
    );
    expect(esm.stdout.trim()).toBe(`function function ${pathToFileURL(path.join(ROOT, "packages/sdk/dist/index.js")).href}`);
    const cjs = await probe(`const m = require("@heron/sdk"); console.log(typeof m.init, require.resolve("@heron/sdk"))`, "commonjs");
    expect(cjs.stdout.trim()).toBe(`function ${path.join(ROOT, "packages/sdk/dist/index.cjs")}`);
  });

  it("the TypeScript example typechecks against the package's .d.ts", async () => {
    const r = await run(
      process.execPath,
      [
        TSC,
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        "--skipLibCheck",
        "--typeRoots",
        path.join(ROOT, "node_modules/@types"),
        "--types",
        "node",
        "log-metrics.ts",
      ],
      project,
      {},
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("server down for the whole run: finish() returns within its timeout + 1 s, `heron sync` uploads every point, the run ends finished", async () => {
    const script = `import { init } from "@heron/sdk";
const run = await init({ project: "sdk-package", initTimeoutMs: 1000 });
for (let step = 0; step < ${STEPS}; step++) run.log({ "train/loss": Math.exp(-step / 1000), "train/acc": 1 - Math.exp(-step / 1000) });
const t0 = Date.now();
await run.finish({ timeoutMs: 2000 });
console.log(JSON.stringify({ id: run.id, dir: run.dir, finishMs: Date.now() - t0 }));
`;
    fs.writeFileSync(path.join(project, "offline.mjs"), script);
    const down = `http://127.0.0.1:${await freePort()}`;
    const r = await run(process.execPath, ["offline.mjs"], project, { ...env, HERON_HOST: down });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { id: string; dir: string; finishMs: number };
    expect(out.finishMs).toBeLessThanOrEqual(3_000);
    // the process exits right after: nothing keeps it alive
    expect(r.ms).toBeLessThan(15_000);
    const hint = r.stderr.split("\n").filter((l) => l.includes("npx heron sync"));
    expect(hint).toEqual([expect.stringContaining(`upload it with: npx heron sync ${out.dir}`)]);
    await expect(t.api.run.get.query({ runId: out.id })).rejects.toThrow();

    // the command the line names, run by the installed package's bin, against the live server
    const sync = await run(path.join(project, "node_modules/.bin/heron"), ["sync", out.dir, "--host", t.server.url], project, { HERON_API_KEY: t.key });
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toContain(`run ${out.id}`);
    await expectEveryPoint(t, out.id);
  });
});
