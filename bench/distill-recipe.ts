// Seed 003's recipe end to end, Heron vs PyTorch on the same split, in the same run:
// a deep-cnn teacher (`kind: "train"`), then the four light-cnn students (ce, kd, cosine,
// regressor; one `kind: "distill"` job with teacher {runId}) — submitted over tRPC to a server
// and run by a local runner daemon (real job processes, every core granted: threads "auto"),
// against the PyTorch-CPU script of the same recipe (Debian python3-torch, every core) on the
// exact images Heron trains on (written out by this script). Fashion-MNIST stands in for
// CIFAR-10, which cannot be downloaded here.
//   RECIPE_TRAIN (12000)  RECIPE_TEST (2000)  RECIPE_EPOCHS (3)  RECIPE_SEED (1)
// Last line: {"bench":"distill-recipe","heron_s":…,"torch_s":…,"recipe_vs_torch":…,"heron:<method>":…,"torch:<method>":…}
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { loadDataset } from "@heron/core/ml";
import { createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { pino } from "pino";

import { startBenchServer } from "./helpers/bench-server";

const TRAIN = Number(process.env.RECIPE_TRAIN ?? 12_000);
const TEST = Number(process.env.RECIPE_TEST ?? 2_000);
const EPOCHS = Number(process.env.RECIPE_EPOCHS ?? 3);
const SEED = Number(process.env.RECIPE_SEED ?? 1);
const METHODS = ["ce", "kd", "cosine", "regressor"] as const;
const common = { dataset: "fashion-mnist", epochs: EPOCHS, batchSize: 128, lr: 0.001, maxTrainSamples: TRAIN, maxTestSamples: TEST, seed: SEED, logEvery: 20 };

const { server, home, key } = await startBenchServer("recipe");

async function trpc<T>(proc: string, input: unknown, mutation = true): Promise<T> {
  const url = `${server.url}/api/trpc/${proc}` + (mutation ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const res = await fetch(url, {
    method: mutation ? "POST" : "GET",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: mutation ? JSON.stringify({ json: input }) : undefined,
  });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
  if (!body.result) throw new Error(`${proc}: ${body.error?.json.message ?? res.status}`);
  return body.result.data.json;
}

type Job = { status: string; error?: string | null; runId?: string | null };
type Run = { summary?: Record<string, unknown> | null };
/**
 * submits a spec and waits for every job it created (a distill spec with several methods
 * becomes one job per method); answers each job's run summary (what the job reported) and
 * the wall time until the last one ended
 */
async function runToEnd(spec: Record<string, unknown>): Promise<{ jobs: { job: Job; summary: Record<string, unknown> }[]; seconds: number }> {
  const t0 = performance.now();
  const { jobIds } = await trpc<{ jobIds: string[] }>("job.submit", { projectId: "recipe", spec });
  const jobs: { job: Job; summary: Record<string, unknown> }[] = [];
  for (const jobId of jobIds) {
    for (;;) {
      const job = await trpc<Job>("job.get", { jobId }, false);
      if (["succeeded", "failed", "cancelled"].includes(job.status)) {
        if (job.status !== "succeeded") throw new Error(`${String(spec.kind)} job ${job.status}: ${job.error ?? ""}`);
        const run = await trpc<Run>("run.get", { runId: job.runId }, false);
        jobs.push({ job, summary: run.summary ?? {} });
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { jobs, seconds: (performance.now() - t0) / 1000 };
}

const out: Record<string, unknown> = {
  bench: "distill-recipe",
  train: TRAIN,
  test: TEST,
  epochs: EPOCHS,
  cores: os.availableParallelism(),
  loadavg_start: os.loadavg()[0],
};
let daemon: RunnerDaemon | undefined;
try {
  await trpc("project.create", { name: "recipe" });
  const { token } = await trpc<{ token: string }>("runner.createToken", { name: "bench-local" });
  daemon = new RunnerDaemon({
    server: server.url,
    token,
    name: "bench-local",
    slots: 1,
    cores: os.availableParallelism(),
    home: path.join(home, "runner"),
    executor: createProcessExecutor(),
    logger: pino({ level: "warn" }),
  });
  await daemon.start();

  // Heron: teacher, then the four students against it
  const teacher = await runToEnd({ kind: "train", model: "deep-cnn", ...common });
  const teacherSummary = teacher.jobs[0]!.summary;
  console.log(`heron teacher deep-cnn: ${teacher.seconds.toFixed(1)} s, test accuracy ${String(teacherSummary.test_accuracy)}`);
  const students = await runToEnd({ kind: "distill", teacher: { runId: teacher.jobs[0]!.job.runId }, student: "light-cnn", methods: [...METHODS], ...common });
  console.log(`heron students (${METHODS.join(", ")}): ${students.seconds.toFixed(1)} s`);
  out.heron_s = Math.round((teacher.seconds + students.seconds) * 10) / 10;
  out["heron:teacher"] = teacherSummary.test_accuracy;
  for (const { summary } of students.jobs) out[`heron:${String(summary.method)}`] = summary.test_accuracy;
  out.heron_threads = teacherSummary.threads;

  // PyTorch on the same images (Heron's split, written out raw) and the same normalisation
  const ds = loadDataset("fashion-mnist", { maxTrainSamples: TRAIN, maxTestSamples: TEST });
  const dataDir = path.join(home, "torch-data");
  fs.mkdirSync(dataDir);
  for (const [name, split] of [
    ["train", ds.train],
    ["test", ds.test],
  ] as const) {
    fs.writeFileSync(path.join(dataDir, `${name}-images.u8`), split.images.subarray(0, split.count * 784));
    fs.writeFileSync(path.join(dataDir, `${name}-labels.u8`), split.labels.subarray(0, split.count));
  }
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), "helpers", "distill_recipe.py");
  // asynchronously: the server and the runner live in this process and must keep answering
  const { stdout: torchOut } = await promisify(execFile)(
    "/usr/bin/python3",
    [script, dataDir, String(EPOCHS), String(SEED), String(ds.mean[0]), String(ds.std[0]), String(os.availableParallelism())],
    { encoding: "utf8" },
  );
  const torch = JSON.parse(torchOut.trim().split("\n").at(-1)!) as Record<string, number>;
  console.log(torchOut.trim().split("\n").slice(0, -1).join("\n"));
  out.torch_s = torch.seconds;
  out["torch:teacher"] = torch.teacher;
  for (const m of METHODS) out[`torch:${m}`] = torch[m];
  out.recipe_vs_torch = Math.round((torch.seconds! / (out.heron_s as number)) * 100) / 100;
  for (const m of ["teacher", ...METHODS])
    console.log(`${m.padEnd(10)} heron ${(100 * Number(out[`heron:${m}`])).toFixed(2)}%  torch ${Number(out[`torch:${m}`]).toFixed(2)}%`);
} finally {
  await daemon?.stop();
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
}
out.loadavg_end = os.loadavg()[0];
console.log(JSON.stringify(out));
