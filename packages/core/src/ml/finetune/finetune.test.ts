// Fine-tuning (seed 002): LoRA starts exactly at the base, merges exactly, trains a small
// share of the parameters; prompt tokens are masked; the text model's SFT loss falls and its
// answers change from the base model's to the trained ones; image LoRA lifts accuracy.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { JobContext, TextSample } from "../../jobs/job-context";
import { denseLayersOf, type FinetuneSpecInput, FinetuneSpecSchema, selectLoraTargets } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { createLoraAdapters, mergeLoraWeights } from "../lora/lora";
import { IGNORE_INDEX } from "../losses";
import { buildModel, MODEL_NAMES } from "../models/reference-models";
import { CharTransformer } from "../text/char-transformer";
import { loadSftPairs, processPair } from "../text/sft-data";
import { encodePrompt } from "../text/tokenizer";
import { runFinetuneJob } from "./finetune-job";

const dirs: string[] = [];
function fakeCtx() {
  const dir = mkdtempSync(join(tmpdir(), "heron-ft-"));
  dirs.push(dir);
  const logs: { step: number; m: Record<string, number> }[] = [];
  const texts: { key: string; rows: TextSample[]; step: number }[] = [];
  const info: string[] = [];
  const ctx: JobContext = {
    log: (m, step) => logs.push({ step, m }),
    logText: (key, rows, step) => texts.push({ key, rows, step }),
    progress: () => undefined,
    setSummary: () => undefined,
    info: (m) => info.push(m),
    warn: (m) => info.push(`warn ${m}`),
    checkpointDir: join(dir, "checkpoints", "job-ft"),
    signal: new AbortController().signal,
  };
  return { ctx, logs, texts, info, dir };
}
const series = (logs: { step: number; m: Record<string, number> }[], key: string) => logs.filter((l) => key in l.m).map((l) => l.m[key]!);
const cfg = { dModel: 32, layers: 1, heads: 2, context: 64 };

beforeAll(async () => {
  await selectBackend();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("LoRA", () => {
  it("B = 0 at init: the adapted model computes exactly the base model", () => {
    const m = new CharTransformer(cfg, 1);
    const ads = createLoraAdapters(
      selectLoraTargets(denseLayersOf({ text: cfg, vocab: m.vocab }), { r: 4, targets: ["q_proj", "v_proj", "lm_head"] }),
      { r: 4, alpha: 16, dropout: 0.1, targets: [] },
      2,
    );
    const ids = tf.tensor2d([encodePrompt("be brief.", "which river?")], undefined, "int32");
    const base = m.forward(ids).dataSync();
    const adapted = m.forward(ids, { adapters: ads }).dataSync();
    expect(Array.from(adapted)).toEqual(Array.from(base));
  });

  it("merged adapters give the same outputs as base + adapters", () => {
    const m = new CharTransformer(cfg, 1);
    const ads = createLoraAdapters(
      selectLoraTargets(denseLayersOf({ text: cfg, vocab: m.vocab }), { r: 4, targets: ["layers.**"] }),
      { r: 4, alpha: 16, dropout: 0, targets: [] },
      3,
    );
    for (const ad of ads.values()) ad.B.assign(tf.randomNormal(ad.B.shape, 0, 0.2, "float32", 7));
    const ids = tf.tensor2d([encodePrompt("be brief.", "what do people keep?")], undefined, "int32");
    const withAd = m.forward(ids, { adapters: ads }).dataSync();
    const base = m.forward(ids).dataSync();
    const merged = new CharTransformer(cfg, 9);
    merged.setWeights(mergeLoraWeights(m.getWeights(), ads));
    const out = merged.forward(ids).dataSync();
    let diff = 0,
      moved = 0;
    for (let i = 0; i < out.length; i++) {
      diff = Math.max(diff, Math.abs(out[i]! - withAd[i]!));
      moved = Math.max(moved, Math.abs(base[i]! - withAd[i]!));
    }
    expect(moved).toBeGreaterThan(1e-2); // the adapters really change the model…
    expect(diff).toBeLessThan(1e-4); // …and the merged weights reproduce that change
  });

  it("layer lists used at submit match the real models; bad targets and r are refused", () => {
    for (const name of MODEL_NAMES) {
      const input: [number, number, number] = name === "mlp-cifar" || name === "deep-cnn" ? [32, 32, 3] : [28, 28, 1];
      const m = buildModel(name, input);
      for (const l of denseLayersOf({ image: name, input })) expect(m.params.get(`${l.name}.weight`)!.shape).toEqual([l.inFeatures, l.outFeatures]);
      m.dispose();
    }
    const t = new CharTransformer(cfg);
    for (const l of denseLayersOf({ text: cfg, vocab: t.vocab })) expect(t.params.get(`${l.name}.weight`)!.shape).toEqual([l.inFeatures, l.outFeatures]);
    const layers = denseLayersOf({ image: "mlp-mnist", input: [28, 28, 1] });
    expect(() => selectLoraTargets(layers, { r: 4, targets: ["q_proj"] })).toThrow(/"q_proj" matches no dense layer \(layers: layer1, layer2\)/);
    expect(() => selectLoraTargets(layers, { r: 64, targets: ["layer2"] })).toThrow(/r=64 is larger than layer layer2 \(128→10\); r must be ≤ 10/);
  });
});

describe("prompt-masked SFT data (seed 002 process_func)", () => {
  it("masks the prompt with −100, learns answer + end token, truncates to maxLength", () => {
    const p = { instruction: "be brief.", input: "2+2?", output: "4" };
    const prompt = encodePrompt(p.instruction, p.input);
    const e = processPair(p, 96);
    expect(e.inputIds.length).toBe(prompt.length + 2);
    expect(e.labels.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(e.labels.slice(prompt.length)).toEqual(e.inputIds.slice(prompt.length));
    const short = processPair(p, 5);
    expect([short.inputIds.length, short.labels.length, short.attentionMask.length]).toEqual([5, 5, 5]);
  });

  it("an empty or malformed JSONL dataset fails with the line at fault", () => {
    const d = mkdtempSync(join(tmpdir(), "heron-sft-"));
    dirs.push(d);
    writeFileSync(join(d, "empty.jsonl"), "\n\n");
    writeFileSync(join(d, "bad.jsonl"), '{"instruction":"x","input":"q","output":"a"}\n{"input":"q2"}\n');
    expect(() => loadSftPairs({ path: join(d, "empty.jsonl") }, 0)).toThrow(/holds no instruction\/input\/output pairs/);
    expect(() => loadSftPairs({ path: join(d, "bad.jsonl") }, 0)).toThrow(/line 2: output/);
    const r = FinetuneSpecSchema.safeParse({
      kind: "finetune",
      task: "text",
      base: { runId: "r" },
      method: "lora",
      data: { pairs: [] },
      epochs: 1,
      batchSize: 4,
      lr: 0.01,
      lora: { targets: ["q_proj"] },
    });
    expect(r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")).toMatch(/data/);
  });
});

describe("fine-tune jobs", () => {
  it("text: LoRA SFT loss falls, answers change from the base model's to the trained ones, < 10% trainable", async () => {
    const f = fakeCtx();
    const spec: FinetuneSpecInput = {
      kind: "finetune",
      task: "text",
      base: { pretrain: { steps: 80, lr: 0.005, batchSize: 8, model: { dModel: 32, layers: 2, heads: 4, context: 64 } } },
      method: "lora",
      lora: { r: 2, alpha: 16, dropout: 0.05, targets: ["q_proj", "v_proj", "up_proj", "down_proj", "lm_head"] },
      data: { builtin: "almanac" },
      maxLength: 64,
      samples: 3,
      epochs: 5,
      batchSize: 8,
      gradAccumulation: 1,
      lr: 0.01,
      logEvery: 2,
      saveEvery: 10,
      seed: 3,
    };
    const t0 = Date.now();
    const res = await runFinetuneJob(spec, f.ctx);
    console.log(`text fine-tune: ${((Date.now() - t0) / 1000).toFixed(1)} s`, res.summary);
    const loss = series(f.logs, "train/loss");
    expect(loss.length).toBeGreaterThan(5);
    expect(loss.at(-1)!).toBeLessThan(loss[0]! * 0.6);
    for (const k of ["train/grad_norm", "train/lr", "train/epoch"]) expect(series(f.logs, k).length).toBe(loss.length);
    const share = series(f.logs, "train/trainable_share")[0]!;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.1);
    // samples before training and after each epoch; answers move from the base to the trained form
    expect(f.texts.map((t) => t.step)[0]).toBe(0);
    expect(f.texts.length).toBe(1 + 5);
    const first = f.texts[0]!.rows,
      last = f.texts.at(-1)!.rows;
    for (const r of first) console.log("before:", r.text.replace(/\n/g, " | "));
    for (const r of last) console.log("after: ", r.text.replace(/\n/g, " | "));
    expect(last.map((r) => r.caption)).not.toEqual(first.map((r) => r.caption));
    const gt = last.map((r) => r.text.split("[GT] ")[1]!);
    const endsLikeAnswer = (rows: TextSample[]) => rows.filter((r, i) => r.caption!.endsWith(".") && r.caption!.length <= gt[i]!.length + 12).length;
    expect(endsLikeAnswer(last)).toBeGreaterThan(endsLikeAnswer(first));
    expect(res.summary.merge_max_abs_diff as number).toBeLessThan(1e-3);
  });

  it("image: LoRA on a model pre-trained on digits 0–4 learns digits 5–9", async () => {
    const f = fakeCtx();
    const res = await runFinetuneJob(
      {
        kind: "finetune",
        task: "image",
        base: { pretrain: { model: "mlp-mnist", dataset: "mnist", classes: [0, 1, 2, 3, 4], epochs: 1, maxTrainSamples: 2000 } },
        method: "lora",
        lora: { r: 4, alpha: 16, targets: ["layer1", "layer2"] },
        dataset: "mnist",
        classes: [5, 6, 7, 8, 9],
        epochs: 3,
        batchSize: 64,
        lr: 0.01,
        maxTrainSamples: 1500,
        maxTestSamples: 500,
        seed: 2,
      },
      f.ctx,
    );
    console.log("image fine-tune:", res.summary);
    expect(res.summary.accuracy_before as number).toBeLessThan(0.2);
    expect(res.summary.test_accuracy as number).toBeGreaterThan(0.7);
    expect(res.summary.trainable_share as number).toBeLessThan(0.1);
  });
});
