// A teacher/base checkpoint download survives a network blip (tried again before the job
// falls back to this host's copy), and stops at once when the server refuses the source.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import type { Emit } from "./checkpoint-sync";
import { checkpointSourcesOf, fetchSourceCheckpoints } from "./source-checkpoints";

describe("fetchSourceCheckpoints", () => {
  const homes: string[] = [];
  afterEach(() => homes.splice(0).forEach((h) => fs.rmSync(h, { recursive: true, force: true })));
  const home = () => {
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "heron-src-"));
    homes.push(h);
    return h;
  };
  const lease = { jobId: "student", fencingToken: 1, spec: { kind: "distill", teacher: { runId: "t-run", jobId: "teacher" } } } as never;
  const weights = Buffer.alloc(32, 3);
  const serving = (failFirst: number, error = "not connected") => {
    let lookups = 0;
    const emit = (async (event: string, payload: unknown) => {
      if (event === "job:source-checkpoint:latest") {
        if (lookups++ < failFirst) return { ok: false, error };
        return {
          ok: true,
          checkpoint: {
            step: 40,
            files: [
              { name: "meta.json", bytes: 2, chunks: 1 },
              { name: "weights.bin", bytes: weights.byteLength, chunks: 1 },
            ],
          },
        };
      }
      if (event === "job:source-checkpoint:read") return { ok: true, data: (payload as { file: string }).file === "meta.json" ? Buffer.from("{}") : weights };
      return { ok: false, error: `unexpected ${event}` };
    }) as Emit;
    return { emit, lookups: () => lookups };
  };

  it("tries again after a network blip and downloads the teacher", async () => {
    const h = home();
    const lines: string[] = [];
    const { emit, lookups } = serving(2);
    expect(await fetchSourceCheckpoints(emit, lease, h, (l) => lines.push(l))).toBeNull();
    expect(lookups()).toBe(3);
    expect(fs.readdirSync(path.join(h, "checkpoints", "teacher"))).toEqual(["ckpt-000000040"]);
    expect(lines.join("\n")).toMatch(/downloaded step 40 of teacher run t-run/);
  }, 20_000);

  it("does not retry a refusal: it falls back to this host's copy at once", async () => {
    const { emit, lookups } = serving(99, "job student does not start from job teacher: only the teacher/base checkpoint its spec names can be read");
    const lines: string[] = [];
    const why = await fetchSourceCheckpoints(emit, lease, home(), (l) => lines.push(l));
    expect(lookups()).toBe(1);
    expect(lines.join("\n")).toMatch(/could not fetch the teacher run t-run \(job teacher\) checkpoint/);
    expect(why).toBeNull(); // falls back to this host's copy; the job itself then reports the missing teacher
  });
});

describe("checkpointSourcesOf", () => {
  it("lists a pipeline stage's earlier stages: the one it starts from is required, the others are fetched when they exist", () => {
    const spec = { kind: "train", init: { fromStage: "pretrain", jobId: "j2", sources: ["j1", "j2"] } };
    expect(checkpointSourcesOf(spec)).toEqual([
      { role: "stage", runId: null, jobId: "j2", required: true },
      { role: "stage", runId: null, jobId: "j1", required: false },
    ]);
    expect(checkpointSourcesOf({ kind: "train", init: { sources: ["j1"] } })).toEqual([{ role: "stage", runId: null, jobId: "j1", required: false }]);
    expect(checkpointSourcesOf({ kind: "distill", teacher: { runId: "r", jobId: "t" }, init: { sources: ["t"] } })).toEqual([
      { role: "teacher", runId: "r", jobId: "t", required: true },
    ]);
  });

  it("an earlier stage that stored no checkpoint does not stop the stage; the one it starts from does", async () => {
    const emit = (async (event: string) =>
      event === "job:source-checkpoint:latest" ? { ok: true, checkpoint: null } : { ok: false, error: `unexpected ${event}` }) as Emit;
    const h = fs.mkdtempSync(path.join(os.tmpdir(), "heron-src-"));
    try {
      const lines: string[] = [];
      const only = { jobId: "s3", fencingToken: 1, spec: { kind: "train", init: { sources: ["j1"] } } } as never;
      expect(await fetchSourceCheckpoints(emit, only, h, (l) => lines.push(l))).toBeNull();
      expect(lines.join("\n")).toMatch(/stage job j1 stored no checkpoint/);
      const from = { jobId: "s3", fencingToken: 1, spec: { kind: "train", init: { fromStage: "a", jobId: "j1", sources: ["j1"] } } } as never;
      expect(await fetchSourceCheckpoints(emit, from, h, () => undefined)).toMatch(/stage job j1 has no checkpoint on the server/);
    } finally {
      fs.rmSync(h, { recursive: true, force: true });
    }
  });
});
