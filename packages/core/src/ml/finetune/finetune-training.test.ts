// Fine-tuning steps like seed 002's transformers Trainer: the seed's exact LoRA target list
// (gated MLP), warmup + linear decay, loss averaged over the log interval, clip 1.0 by
// default, exact mid-epoch resume (text and image), image gradient accumulation.
import { rmSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { denseLayersOf, type FinetuneSpecInput, FinetuneSpecSchema, selectLoraTargets, storedTextConfig } from "../../schemas/finetune-spec";
import { selectBackend } from "../backend";
import { loadLatestCheckpoint } from "../checkpoint";
import { type FakeCtx, fakeCtx, maxAbsDiff } from "../test-helpers";
import { CharTransformer } from "../text/char-transformer";
import { VOCAB_SIZE } from "../text/tokenizer";
import { runFinetuneJob } from "./finetune-job";
import { finetuneSchedule } from "./schedule";

const SEED_002_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
const model = { dModel: 16, layers: 2, heads: 2, context: 80 };

const textSpec = (o: Partial<FinetuneSpecInput> = {}): FinetuneSpecInput => ({
  kind: "finetune",
  task: "text",
  base: { pretrain: { steps: 4, batchSize: 4, model } },
  method: "lora",
  lora: { r: 4, alpha: 16, dropout: 0.1, targets: SEED_002_TARGETS },
  data: { builtin: "almanac" },
  maxLength: 80,
  samples: 0,
  maxTrainSamples: 24,
  epochs: 2,
  batchSize: 4,
  lr: 0.01,
  logEvery: 1,
  seed: 5,
  ...o,
});

const imageSpec = (o: Partial<FinetuneSpecInput> = {}): FinetuneSpecInput => ({
  kind: "finetune",
  task: "image",
  base: { pretrain: { model: "mlp-mnist", dataset: "mnist", classes: [0, 1, 2, 3, 4], epochs: 1, maxTrainSamples: 256 } },
  method: "lora",
  lora: { r: 4, alpha: 16, targets: ["layer1", "layer2"] },
  dataset: "mnist",
  classes: [5, 6, 7, 8, 9],
  epochs: 2,
  batchSize: 32,
  lr: 0.01,
  maxTrainSamples: 200,
  maxTestSamples: 100,
  logEvery: 1,
  seed: 4,
  ...o,
});

const ctxs: FakeCtx[] = [];
function ctxIn(dir?: string, abortAt?: number): FakeCtx {
  const c = fakeCtx({
    dir,
    onLog: (step, m, self) => {
      if (abortAt !== undefined && step === abortAt && "train/loss" in m) self.abort.abort();
    },
  });
  ctxs.push(c);
  return c;
}
const series = (c: FakeCtx, key: string) => c.logs.filter((l) => key in l.metrics).map((l) => [l.step, l.metrics[key]!] as const);
const finalWeights = (c: FakeCtx) => loadLatestCheckpoint(c.checkpointDir)!.weights;

function expectSameWeights(a: Record<string, Float32Array>, b: Record<string, Float32Array>) {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a))
    expect(Buffer.from(a[k]!.buffer, a[k]!.byteOffset, a[k]!.byteLength).equals(Buffer.from(b[k]!.buffer, b[k]!.byteOffset, b[k]!.byteLength)), k).toBe(true);
}

beforeAll(async () => {
  await selectBackend();
});
afterAll(() => {
  for (const c of ctxs) rmSync(c.checkpointDir, { recursive: true, force: true });
});

describe("seed 002's LoRA target list on the gated-MLP char transformer", () => {
  it("validates, puts an adapter on all 7 projections of every layer, and trains", async () => {
    const spec = FinetuneSpecSchema.parse(textSpec());
    const chosen = selectLoraTargets(denseLayersOf({ text: model, vocab: VOCAB_SIZE }), spec.lora!).map((l) => l.name);
    expect(chosen).toHaveLength(7 * model.layers);
    for (let i = 0; i < model.layers; i++) expect(chosen.filter((n) => n.startsWith(`layers.${i}.`)).map((n) => n.split(".").at(-1))).toEqual(SEED_002_TARGETS);
    const c = ctxIn();
    const res = await runFinetuneJob(textSpec({ epochs: 1 }), c);
    // r·(in + out) per adapter: 4 attention 16→16, gate and up 16→48, down 48→16 (SwiGLU width 8d/3 → 48)
    expect(res.summary.trainable_params).toBe(model.layers * 4 * (4 * 32 + 3 * 64));
    expect(series(c, "train/loss").length).toBe(res.summary.steps);
    expect(Number.isFinite(res.summary.train_loss)).toBe(true);
  });

  it("a text model stored before the gated MLP (no `mlp` in its config) still loads, as the ReLU MLP", () => {
    const old = new CharTransformer({ ...model, mlp: "relu" }, 1);
    const cfg = storedTextConfig(model);
    expect(cfg.mlp).toBe("relu");
    const loaded = new CharTransformer(cfg, 2);
    loaded.setWeights(old.getWeights());
    expect(loaded.params.has("layers.0.mlp.gate_proj.weight")).toBe(false);
    expect(() => new CharTransformer(model, 3).setWeights(old.getWeights())).toThrow(/lacks layers\.0\.mlp\.gate_proj\.weight/);
    for (const m of [old, loaded]) m.dispose();
  });
});

describe("the optimizer steps like transformers' Trainer", () => {
  it("clips at 1.0 unless told otherwise; warmup then linear decay to 0", () => {
    const spec = FinetuneSpecSchema.parse(textSpec({ warmupSteps: 2 }));
    expect(spec.clipGradNorm).toBe(1);
    expect(finetuneSchedule(FinetuneSpecSchema.parse(textSpec({ clipGradNorm: 0 })), 10).clipGradNorm).toBeUndefined();
    const s = finetuneSchedule(spec, 10);
    expect([0, 1, 2, 6, 9].map(s.lrAt)).toEqual([0.005, 0.01, 0.01, 0.01 * (1 - 4 / 8), 0.01 * (1 - 7 / 8)]);
    expect(finetuneSchedule(FinetuneSpecSchema.parse(textSpec({ warmupRatio: 0.25 })), 10).warmupSteps).toBe(3);
  });

  it("logs the lr the schedule gives and the loss averaged over each log interval", async () => {
    const every1 = ctxIn();
    await runFinetuneJob(textSpec({ warmupSteps: 2 }), every1);
    const lr = series(every1, "train/lr");
    const total = lr.length;
    expect(total).toBe(12); // 24 pairs / batch 4 × 2 epochs
    expect(lr.map(([, v]) => v)).toEqual(
      Array.from({ length: total }, (_, i) => finetuneSchedule(FinetuneSpecSchema.parse(textSpec({ warmupSteps: 2 })), total).lrAt(i)),
    );
    expect(lr.at(-1)![1]).toBeLessThan(0.01 / 5);
    const every3 = ctxIn();
    await runFinetuneJob(textSpec({ warmupSteps: 2, logEvery: 3 }), every3);
    const perStep = series(every1, "train/loss").map(([, v]) => v);
    const logged = series(every3, "train/loss");
    expect(logged.map(([s]) => s)).toEqual([3, 6, 9, 12]);
    logged.forEach(([s, v]) => expect(v).toBeCloseTo((perStep[s - 3]! + perStep[s - 2]! + perStep[s - 1]!) / 3, 6));
    expect(every3.infos.join("\n")).toMatch(/lr 0\.01 \(linear, warmup 2 steps\) over 12 steps; grad-norm clip 1/);
  });
});

describe("a stopped fine-tune resumes mid-epoch at the saved step", () => {
  it("text: stopped after 4 of 12 steps, resumed → 12 steps and the uninterrupted run's weights", async () => {
    const whole = ctxIn();
    const full = await runFinetuneJob(textSpec(), whole);
    const first = ctxIn(undefined, 4);
    const stopped = await runFinetuneJob(textSpec(), first);
    expect(stopped.summary).toMatchObject({ stopped: "aborted", steps: 4 });
    const second = ctxIn(first.checkpointDir);
    const resumed = await runFinetuneJob(textSpec(), second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 4 \(epoch 1, step 4 of 6\)/);
    expect(resumed.summary.steps).toBe(full.summary.steps);
    expect(series(second, "train/loss")[0]![0]).toBe(5);
    expectSameWeights(finalWeights(second), finalWeights(whole));
  });

  it("text: stopped during the base's pre-training, resumed → the uninterrupted run's base and final weights", async () => {
    const spec = textSpec({ base: { pretrain: { steps: 30, batchSize: 4, model } }, epochs: 1, maxTrainSamples: 8 });
    const whole = ctxIn();
    await runFinetuneJob(spec, whole);
    const first = fakeCtx({ onLog: (step, m, self) => step === 10 && "pretrain/loss" in m && self.abort.abort() });
    ctxs.push(first);
    await expect(runFinetuneJob(spec, first)).rejects.toThrow(/aborted during pre-training \(checkpoint at step 10;/);
    const second = ctxIn(first.checkpointDir);
    await runFinetuneJob(spec, second);
    expect(second.infos.join("\n")).toMatch(/base: pre-training resumed at step 10 of 30/);
    expect(series(second, "pretrain/loss").map(([s]) => s)).toEqual([20, 30]);
    expectSameWeights(loadLatestCheckpoint(join(second.checkpointDir, "base"))!.weights, loadLatestCheckpoint(join(whole.checkpointDir, "base"))!.weights);
    expectSameWeights(finalWeights(second), finalWeights(whole));
  });

  it("image: saveEvery writes checkpoints; stopped mid-epoch and resumed → same steps and weights", async () => {
    const whole = ctxIn();
    const full = await runFinetuneJob(imageSpec({ saveEvery: 2 }), whole);
    expect(full.summary.steps).toBe(2 * Math.ceil(200 / 32));
    const first = ctxIn(undefined, 3);
    const stopped = await runFinetuneJob(imageSpec({ saveEvery: 2 }), first);
    expect(stopped.summary).toMatchObject({ stopped: "aborted", steps: 3 });
    // saveEvery 2 wrote step 2 before the stop wrote step 3
    const second = ctxIn(first.checkpointDir);
    const resumed = await runFinetuneJob(imageSpec({ saveEvery: 2 }), second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 3 \(epoch 1, step 3 of 7\)/);
    expect(resumed.summary.steps).toBe(full.summary.steps);
    expect(resumed.summary.accuracy_before).toBe(full.summary.accuracy_before);
    expect(series(second, "test/accuracy_before")).toEqual([]);
    expectSameWeights(finalWeights(second), finalWeights(whole));
  });

  it("image: gradAccumulation 2 × batch 16 takes the steps and the updates of batch 32", async () => {
    const big = ctxIn();
    const a = await runFinetuneJob(imageSpec({ epochs: 1 }), big);
    const acc = ctxIn();
    const b = await runFinetuneJob(imageSpec({ epochs: 1, batchSize: 16, gradAccumulation: 2 }), acc);
    expect(b.summary.steps).toBe(a.summary.steps);
    const wa = finalWeights(big);
    const wb = finalWeights(acc);
    for (const k of Object.keys(wa)) {
      let d = 0;
      for (let i = 0; i < wa[k]!.length; i++) d = Math.max(d, Math.abs(wa[k]![i]! - wb[k]![i]!));
      expect(d, k).toBeLessThan(1e-4);
    }
  });
});

describe("freeze / train patterns in fine-tune jobs", () => {
  it("text, method full with freeze: frozen tensors end bit-identical to the base, the rest move; counts logged", async () => {
    const c = ctxIn();
    const res = await runFinetuneJob(textSpec({ method: "full", lora: undefined, epochs: 1, freeze: ["layers.0.**", "tok_emb"] }), c);
    const base = loadLatestCheckpoint(join(c.checkpointDir, "base"))!.weights;
    const after = finalWeights(c);
    const frozen = Object.keys(base).filter((k) => k.startsWith("layers.0.") || k === "tok_emb");
    expect(frozen.length).toBeGreaterThan(5);
    expectSameWeights(Object.fromEntries(frozen.map((k) => [k, after[k]!])), Object.fromEntries(frozen.map((k) => [k, base[k]!])));
    expect(maxAbsDiff(after["layers.1.mlp.gate_proj.weight"]!, base["layers.1.mlp.gate_proj.weight"]!)).toBeGreaterThan(0);
    const frozenCount = frozen.reduce((n, k) => n + base[k]!.length, 0);
    const total = Object.values(base).reduce((n, a) => n + a.length, 0);
    expect(res.summary.trainable_params).toBe(total - frozenCount);
    expect(c.summary).toMatchObject({ "params/trainable": total - frozenCount, "params/total": total });
    expect(c.infos.join("\n")).toMatch(/trainable parameters: [\d,]+ of [\d,]+ .*tensor\(s\) frozen/);
  });

  it("image, LoRA plus train patterns: the adapters and the head train; a pattern matching nothing fails naming it", async () => {
    const c = ctxIn();
    const res = await runFinetuneJob(imageSpec({ epochs: 1, train: ["**.lora_*", "layer2.*"] }), c);
    // adapters r·(in+out) on layer1 (784→128) and layer2 (128→10), plus layer2's 128·10 + 10
    expect(res.summary.trainable_params).toBe(4 * (784 + 128) + 4 * (128 + 10) + 1290);
    await expect(runFinetuneJob(imageSpec({ epochs: 1, freeze: ["decoder.**"] }), ctxIn())).rejects.toThrow(/freeze: "decoder\.\*\*" matches no parameter/);
  });
});
