// `npx heron artifact put | ls | get` against a real server: the same routes and client as the SDK.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "../../../testing/harness";

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../../runner/src/heron-cli.ts");

describe("heron artifact CLI", () => {
  let t: TestServer;
  let work: string;
  const heron = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ["--conditions=heron-source", "--import", "tsx", CLI, "artifact", ...args, "--project", "cli", "--host", t.server.url],
      {
        env: { ...process.env, HERON_API_KEY: t.key, HERON_HOME: path.join(work, "home") },
      },
    );

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "cli" });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "heron-cli-"));
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("puts a folder, lists it, gets it back into a folder, and says clearly what is missing", async () => {
    const src = path.join(work, "ds");
    fs.mkdirSync(path.join(src, "split"), { recursive: true });
    const train = crypto.randomBytes(50_000);
    fs.writeFileSync(path.join(src, "split", "train.bin"), train);
    fs.writeFileSync(path.join(src, "README.md"), "a dataset");
    const put = await heron("put", src, "--name", "cli-ds", "--type", "dataset", "--metadata", '{"rows":2}');
    expect(put.stdout).toMatch(/^cli-ds:v0 created — 2 file\(s\)/);
    expect((await heron("put", src, "--name", "cli-ds", "--type", "dataset")).stdout).toMatch(/cli-ds:v0 unchanged/);
    const ls = await heron("ls");
    expect(ls.stdout).toMatch(/cli-ds\s+dataset\s+1 version\(s\).*latest=v0/);
    const out = path.join(work, "out");
    const got = await heron("get", "cli-ds:latest", "--out", out);
    expect(got.stdout).toContain(`cli-ds:v0 (latest) → ${out}`);
    expect(fs.readFileSync(path.join(out, "split", "train.bin")).equals(train)).toBe(true);
    expect(fs.readFileSync(path.join(out, "README.md"), "utf8")).toBe("a dataset");
    await expect(heron("get", "cli-ds:production")).rejects.toMatchObject({ stderr: expect.stringMatching(/has no alias "production"/) });
  });
});
