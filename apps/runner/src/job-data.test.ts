// A job spec names files on the runner host (data.path, cifarPath): only files under the
// runner's data folder (HERON_DATA_DIR, default <home>/data) may be read.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type JobSpec, JobSpecSchema } from "@heron/core";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";

import { RunnerDaemon } from "./daemon";
import { confineJobData } from "./job-data";
import { createFakeExecutor } from "./testing/fake-executor";
import { startFakeServer } from "./testing/fake-server";

const root = path.resolve("/srv/heron-data");
const finetune = (data: unknown): JobSpec =>
  JobSpecSchema.parse({ kind: "finetune", task: "text", base: { runId: "r1" }, method: "full", data, epochs: 1, batchSize: 4, lr: 0.001 });
const cifar = (cifarPath: string): JobSpec =>
  JobSpecSchema.parse({ kind: "train", model: "mlp-cifar", dataset: "cifar10", cifarPath, epochs: 1, batchSize: 8, lr: 0.01 });

describe("confineJobData", () => {
  it("resolves names relative to the data folder and keeps absolute paths inside it", () => {
    expect(confineJobData(finetune({ path: "sft/train.jsonl" }), root)).toMatchObject({ data: { path: path.join(root, "sft/train.jsonl") } });
    expect(confineJobData(cifar(path.join(root, "cifar")), root)).toMatchObject({ cifarPath: path.join(root, "cifar") });
  });

  it.each(["/etc/passwd", "../../etc/passwd", "sft/../../outside.jsonl", "/srv/heron-data-other/x", "a\0b"])("refuses data.path %j", (p) => {
    expect(() => confineJobData(finetune({ path: p }), root)).toThrow(/data\.path: .* outside this runner's data folder|data\.path: .* refused/);
  });

  it("refuses a cifarPath outside, and leaves built-in datasets alone", () => {
    expect(() => confineJobData(cifar("/home/someone/.ssh"), root)).toThrow(
      /cifarPath: .*outside this runner's data folder \/srv\/heron-data \(HERON_DATA_DIR\)/,
    );
    const mnist = JobSpecSchema.parse({ kind: "train", model: "mlp-mnist", dataset: "mnist", epochs: 1, batchSize: 8, lr: 0.01 });
    expect(confineJobData(mnist, root)).toEqual(mnist);
    expect(confineJobData(finetune({ builtin: "almanac" }), root)).toEqual(finetune({ builtin: "almanac" }));
  });
});

describe("RunnerDaemon with a spec naming a file outside the data folder", () => {
  const temps: string[] = [];
  afterEach(() => temps.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("fails the job with a clear error and never starts it", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-data-"));
    temps.push(home);
    let leased = false;
    const server = await startFakeServer({
      "runner:hello": () => ({ ok: true, runnerId: "r" }),
      "runner:claim": () => {
        if (leased) return { ok: true, lease: null };
        leased = true;
        const spec = finetune({ path: "/etc/passwd" });
        return {
          ok: true,
          lease: { jobId: "job1", runId: "run1", projectName: "p", attempt: 1, fencingToken: 1, expiresAt: Date.now() + 60_000, jobToken: "t", spec },
        };
      },
      "runner:heartbeat": () => ({ ok: true, stale: [] }),
      "job:checkpoint:latest": () => ({ ok: true, checkpoint: null }),
    });
    const executor = createFakeExecutor({ durationMs: 10 });
    const daemon = new RunnerDaemon({ server: server.url, token: "t", home, slots: 1, executor, logger: pino({ level: "silent" }), heartbeatMs: 100 });
    try {
      await daemon.start();
      const deadline = Date.now() + 5000;
      while (!server.received.some((r) => r.event === "job:report") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const report = server.received.find((r) => r.event === "job:report")?.payload as { status: string; error: string } | undefined;
      expect(report?.status).toBe("failed");
      expect(report?.error).toMatch(/data\.path: \/etc\/passwd is outside this runner's data folder .*data \(HERON_DATA_DIR\)/);
      expect(executor.records).toEqual([]);
    } finally {
      await daemon.stop();
      await server.close();
    }
  });
});
