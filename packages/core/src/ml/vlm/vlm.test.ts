import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { TextSample } from "../../jobs/job-context";
import { runJob } from "../../jobs/run-job";
import { expandVlmRecipe } from "../../jobs/vlm-recipe";
import { CheckpointManifestSchema } from "../../schemas/training-fields";
import { type VlmSpecInput, VlmSpecSchema, type VlmStageSpec } from "../../schemas/vlm-spec";
import { listCheckpoints, loadLatestCheckpoint } from "../checkpoint";
import { encodeCifarRecords, loadDataset } from "../datasets";
import { type FakeCtx, fakeCtx, maxAbsDiff } from "../test-helpers";
import { MiniVlm } from "./model";
import { VlmTasks } from "./tasks";
import { WordTokenizer } from "./tokenizer";
import { vlmSetup } from "./vlm-job";

const tiny: VlmSpecInput = {
  kind: "vlm",
  dataset: "synthetic",
  maxTrainSamples: 64,
  maxTestSamples: 16,
  seed: 2,
  encoder: { channels: [4, 8] },
  lm: { dModel: 16, layers: 2, heads: 2 },
  patchPool: 2,
  encoderStage: { epochs: 2, batchSize: 16 },
  pretrainStage: { epochs: 1, batchSize: 16 },
  sftStage: { epochs: 2, batchSize: 16 },
  samples: 3,
  logEvery: 1,
};

/** runs the recipe's stages as a runner would: `<root>/<jobId>/` folders, init.jobId/sources filled in */
async function runPipeline(spec: VlmSpecInput, only?: number) {
  const root = mkdtempSync(join(tmpdir(), "heron-vlm-"));
  const p = expandVlmRecipe(spec);
  const ids: string[] = [];
  const ctxs: FakeCtx[] = [];
  const texts: { key: string; rows: TextSample[]; step: number }[] = [];
  for (const [i, st] of p.stages.entries()) {
    if (only !== undefined && i > only) break;
    const dir = join(root, `job-${st.name}`);
    mkdirSync(dir);
    const from = st.init ? ids[p.stages.findIndex((s) => s.name === st.init!.fromStage)] : undefined;
    const stageSpec: VlmStageSpec = { ...st.spec, init: st.init ? { ...st.init, jobId: from, sources: [...ids] } : undefined };
    const ctx = fakeCtx({ dir });
    ctx.logText = (key, rows, step) => texts.push({ key, rows, step });
    await runJob(stageSpec, ctx);
    ids.push(`job-${st.name}`);
    ctxs.push(ctx);
  }
  return { root, ids, ctxs, texts, dir: (i: number) => join(root, ids[i]!) };
}

const lastMetric = (c: FakeCtx, key: string) => c.logs.filter((l) => key in l.metrics).at(-1)?.metrics[key];

describe("vlm recipe", () => {
  it("expands into encoder → pretrain → sft with freezing and init as seed 001 stages them", () => {
    const p = expandVlmRecipe({ kind: "vlm", dataset: "fashion-mnist" });
    expect(p.stages.map((s) => s.name)).toEqual(["encoder", "pretrain", "sft"]);
    const [enc, pre, sft] = p.stages;
    expect(enc!.spec).toMatchObject({ kind: "vlm-stage", stage: "encoder", epochs: 3, lr: 0.002, batchSize: 64 });
    expect(enc!.spec.freeze).toBeUndefined();
    expect(pre!.spec).toMatchObject({ stage: "pretrain", freeze: ["encoder.**"], train: ["proj.**", "lm.layers.1.**", "lm.ln_f.*", "lm.head.*"] });
    expect(pre!.init).toEqual({ fromStage: "encoder", load: ["encoder.**"] });
    expect(sft!.spec).toMatchObject({ stage: "sft", freeze: ["encoder.**"] });
    expect(sft!.init).toEqual({ fromStage: "pretrain" });
    expect(expandVlmRecipe({ ...tiny, lm: { dModel: 16, layers: 4, heads: 2 } }).stages[1]!.spec.train).toContain("lm.layers.3.**");
  });

  it("defaults every field but the dataset, and explains bad ones", () => {
    expect(VlmSpecSchema.safeParse({ kind: "vlm" }).success).toBe(false);
    const err = (x: object) => JSON.stringify(VlmSpecSchema.safeParse({ kind: "vlm", ...x }).error?.issues.map((i) => i.message));
    expect(err({ dataset: "cifar10" })).toContain("cifarPath is required for dataset cifar10");
    expect(err({ dataset: "mnist" })).toContain("the vlm recipe supports fashion-mnist, cifar10 and synthetic");
    expect(err({ dataset: "fashion-mnist", lm: { dModel: 30, heads: 4 } })).toContain("lm.dModel must be a multiple of lm.heads");
  });
});

describe("vlm tasks", () => {
  it("asks class-name and attribute questions with deterministic answers", () => {
    const t = new VlmTasks("fashion-mnist", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
    const bag = [8, 9].map((label) => t.evalPairs(label, 3));
    expect(bag[0]![0]).toMatchObject({ question: "what is in the image ?", answer: "bag", kind: "class" });
    expect(t.evalPairs(8, 6)[1]).toMatchObject({ question: "can you wear it ?", answer: "no", kind: "attribute" });
    expect(t.evalPairs(9, 6)[1]).toMatchObject({ question: "can you wear it ?", answer: "yes", kind: "attribute" });
    expect(t.caption(9)).toBe("an ankle boot");
    expect(t.trainingPair(3, 1, 2, 7)).toEqual(t.trainingPair(3, 1, 2, 7));
    const tok = new WordTokenizer(t.words());
    const ex = tok.example("can you wear it ?", "yes", 4);
    expect(ex.ids.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(ex.labels.filter((l) => l >= 0).map((id) => tok.vocab[id])).toEqual(["yes", "<end>"]);
    expect(tok.decode(ex.ids.slice(-2))).toBe("yes");
  });
});

describe("vlm stages on synthetic data", () => {
  it("trains all three stages; frozen tensors stay bit-identical and out of later checkpoints, which still restore the full model", async () => {
    const r = await runPipeline(tiny);
    const [enc, pre, sft] = r.ctxs;
    expect(lastMetric(enc!, "test/accuracy")).toBeGreaterThan(0);
    expect(lastMetric(pre!, "caption/accuracy")).toBeGreaterThanOrEqual(0);
    for (const k of ["vqa/accuracy", "vqa/class_accuracy", "vqa/verify_accuracy", "vqa/attribute_accuracy", "caption/accuracy", "test/loss"])
      expect(lastMetric(sft!, k)).toBeTypeOf("number");
    expect(sft!.summary["vqa/accuracy"]).toBe(lastMetric(sft!, "vqa/accuracy"));
    expect(pre!.summary["params/trainable"]).toBeLessThan(sft!.summary["params/trainable"] as number);
    expect(sft!.summary["params/total"]).toBe(pre!.summary["params/total"]);

    const encCk = loadLatestCheckpoint(r.dir(0))!;
    const preCk = loadLatestCheckpoint(r.dir(1))!;
    const sftCk = loadLatestCheckpoint(r.dir(2))!;
    const encoderNames = Object.keys(encCk.weights);
    expect(encoderNames).toContain("encoder.conv1.weight");
    for (const ck of [preCk, sftCk]) for (const n of encoderNames) expect(maxAbsDiff(ck.weights[n]!, encCk.weights[n]!)).toBe(0);
    // pretrain: LM layers before the last stay as initialised; the last one trained
    const stage = expandVlmRecipe(tiny).stages[1]!.spec;
    const fresh = new MiniVlm(vlmSetup(stage, loadDataset("synthetic", { maxTrainSamples: 64 })).config, "full", 2);
    const init = fresh.getWeights();
    fresh.dispose();
    expect(maxAbsDiff(preCk.weights["lm.layers.0.attn.q_proj.weight"]!, init["lm.layers.0.attn.q_proj.weight"]!)).toBe(0);
    expect(maxAbsDiff(preCk.weights["lm.layers.1.attn.q_proj.weight"]!, init["lm.layers.1.attn.q_proj.weight"]!)).toBeGreaterThan(0);
    expect(maxAbsDiff(preCk.weights["proj.weight"]!, init["proj.weight"]!)).toBeGreaterThan(0);
    expect(maxAbsDiff(sftCk.weights["lm.layers.0.attn.q_proj.weight"]!, preCk.weights["lm.layers.0.attn.q_proj.weight"]!)).toBeGreaterThan(0);

    for (const i of [1, 2]) {
      const last = join(r.dir(i), listCheckpoints(r.dir(i)).at(-1)!);
      const m = CheckpointManifestSchema.parse(JSON.parse(readFileSync(join(last, "manifest.json"), "utf8")));
      const enc = m.tensors.filter((t) => t.name.startsWith("encoder."));
      expect(enc.map((t) => t.name).sort()).toEqual([...encoderNames].sort());
      // every encoder tensor points to the encoder stage's checkpoint (never a chain through pretrain)
      for (const t of enc) expect(t.ref).toEqual({ jobId: "job-encoder", step: encCk.step });
      const meta = JSON.parse(readFileSync(join(last, "meta.json"), "utf8")) as { tensors: { name: string }[] };
      expect(meta.tensors.filter((t) => t.name.startsWith("encoder."))).toEqual([]);
      expect(m.tensors.find((t) => t.name === "proj.weight")).toMatchObject({ shape: [8, 16] });
    }

    const samples = r.texts.filter((t) => t.key === "vqa/samples");
    expect(samples).toHaveLength(2);
    const row = samples[0]!.rows[0]!;
    expect(row.caption).toMatch(/^answer: .* \| truth: class \d$/);
    expect(Buffer.from(row.image!.png, "base64").subarray(1, 4).toString()).toBe("PNG");
    expect(row.image).toMatchObject({ width: 28, height: 28 });
  });

  it("an sft attempt stopped mid-epoch resumes to the same weights as an uninterrupted one", async () => {
    const spec = { ...tiny, sftStage: { epochs: 2, batchSize: 16 }, checkpointEvery: 2 };
    const r = await runPipeline(spec, 1);
    const p = expandVlmRecipe(spec);
    const sftSpec: VlmStageSpec = { ...p.stages[2]!.spec, init: { fromStage: "pretrain", jobId: r.ids[1], sources: r.ids } };
    const full = fakeCtx({ dir: join(r.root, "sft-full") });
    await runJob(sftSpec, full);
    const dir = join(r.root, "sft-split");
    await runJob(sftSpec, fakeCtx({ dir, onLog: (step, _m, c) => step === 3 && c.abort.abort() }));
    expect(loadLatestCheckpoint(dir)!.step).toBe(3);
    const second = fakeCtx({ dir });
    await runJob(sftSpec, second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 3/);
    const a = loadLatestCheckpoint(join(r.root, "sft-full"))!;
    const b = loadLatestCheckpoint(dir)!;
    expect(b.step).toBe(a.step);
    for (const [n, w] of Object.entries(a.weights)) expect(maxAbsDiff(b.weights[n]!, w)).toBe(0);
  });

  it("runs on CIFAR-10's colour images: 32×32×3 input, its own questions, RGB images beside the answers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "heron-vlm-cifar-"));
    const sample = (i: number) => ({ label: i % 10, hwc: Uint8Array.from({ length: 3072 }, (_, k) => (k * 7 + i * 31) % 256) });
    writeFileSync(join(dir, "data_batch_1.bin"), encodeCifarRecords(Array.from({ length: 20 }, (_, i) => sample(i))));
    writeFileSync(join(dir, "test_batch.bin"), encodeCifarRecords(Array.from({ length: 10 }, (_, i) => sample(i + 100))));
    const stage = expandVlmRecipe({ ...tiny, dataset: "cifar10", cifarPath: dir }).stages[2]!.spec;
    const ctx = fakeCtx();
    const texts: TextSample[] = [];
    ctx.logText = (_key, rows) => texts.push(...rows);
    await runJob({ ...stage, epochs: 1 }, ctx);
    expect(ctx.warnings.join("\n")).toMatch(/no init: the encoder starts untrained/);
    expect(ctx.infos.join("\n")).toMatch(/16 image tokens/); // 32 → 16 → 8 after two blocks, pooled by 2 → 4×4
    expect(lastMetric(ctx, "vqa/accuracy")).toBeTypeOf("number");
    expect(texts.map((t) => t.text).join("\n")).toMatch(/^is this a (airplane|automobile|bird|cat|deer|dog|frog|horse|ship|truck) \?$/m);
    expect(texts[0]!.image).toMatchObject({ width: 32, height: 32 });
    // colour type 2 (truecolour) in the IHDR chunk
    expect(Buffer.from(texts[0]!.image!.png, "base64")[25]).toBe(2);
  });
});
