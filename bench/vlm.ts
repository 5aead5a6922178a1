/**
 * The mini VLM recipe end to end on this machine: `expandVlmRecipe` → three `vlm-stage`
 * jobs run one after another through `runJob` with a local JobContext, each stage starting
 * from the previous one's checkpoint folder as a runner lays them out
 * (`<home>/checkpoints/<jobId>/`). Prints each stage's wall time and metrics, the load
 * average, and one JSON line last.
 *
 *   npx tsx bench/vlm.ts                       # fashion-mnist, 6,000 train / 1,000 test, seed 1
 *   VLM_DATASET=cifar10 VLM_CIFAR=/path npx tsx bench/vlm.ts
 *   VLM_TRAIN=1000 VLM_TEST=200 npx tsx bench/vlm.ts   # a quick look
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

import { expandVlmRecipe, type JobContext, type VlmSpecInput } from "@heron/core";
import { runJob } from "@heron/core/node";

const env = process.env;
const spec: VlmSpecInput = {
  kind: "vlm",
  dataset: (env.VLM_DATASET as VlmSpecInput["dataset"]) ?? "fashion-mnist",
  cifarPath: env.VLM_CIFAR,
  maxTrainSamples: Number(env.VLM_TRAIN ?? 6000),
  maxTestSamples: Number(env.VLM_TEST ?? 1000),
  seed: Number(env.VLM_SEED ?? 1),
};
const home = mkdtempSync(join(tmpdir(), "heron-vlm-bench-"));
const pipeline = expandVlmRecipe(spec);
const jobIds: string[] = [];
const out: Record<string, unknown> = {
  bench: "vlm",
  dataset: spec.dataset,
  train: spec.maxTrainSamples,
  test: spec.maxTestSamples,
  loadavg_start: loadavg()[0],
};
let total = 0;

for (const [i, stage] of pipeline.stages.entries()) {
  const jobId = `${stage.name}-job`;
  const dir = join(home, "checkpoints", jobId);
  mkdirSync(dir, { recursive: true });
  const from = stage.init ? jobIds[pipeline.stages.findIndex((s) => s.name === stage.init!.fromStage)] : undefined;
  const stageSpec = { ...stage.spec, init: stage.init ? { ...stage.init, jobId: from, sources: jobIds.slice(0, i) } : undefined };
  const metrics: Record<string, number> = {};
  const ctx: JobContext = {
    log: (m) => Object.assign(metrics, m),
    logText: (key, rows) => console.log(`  ${key}: ${rows.map((r) => `${r.text} → ${r.caption}`).join(" ; ")}`),
    progress: () => {},
    setSummary: () => {},
    info: (m) => console.log(`  ${m}`),
    warn: (m) => console.log(`  warn: ${m}`),
    checkpointDir: dir,
    signal: new AbortController().signal,
  };
  const t0 = performance.now();
  console.log(`stage ${stage.name} (load ${loadavg()[0]!.toFixed(1)})`);
  await runJob(stageSpec, ctx);
  const seconds = (performance.now() - t0) / 1000;
  total += seconds;
  jobIds.push(jobId);
  console.log(`stage ${stage.name}: ${seconds.toFixed(1)} s`);
  out[`${stage.name}_s`] = Math.round(seconds * 10) / 10;
  for (const k of ["test/accuracy", "caption/accuracy", "vqa/accuracy", "vqa/class_accuracy", "vqa/verify_accuracy", "vqa/attribute_accuracy"])
    if (k in metrics && !(stage.name === "encoder" && k !== "test/accuracy")) out[`${stage.name}:${k}`] = Math.round(metrics[k]! * 10000) / 10000;
}
out.total_s = Math.round(total * 10) / 10;
out.loadavg_end = loadavg()[0];
console.log(JSON.stringify(out));
