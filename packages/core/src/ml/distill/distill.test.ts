// Distillation: the seed-003 methods on real tensors — the teacher stays frozen, feature
// shapes line up as the schema promises, a whole job runs every method and logs its parts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { JobContext, TextSample } from "../../jobs/job-context";
import { describeDistillFeatures, type DistillSpecInput, DistillSpecSchema } from "../../schemas/distill-spec";
import { selectBackend } from "../backend";
import { loadLatestCheckpoint } from "../checkpoint";
import { accumulateGradients, optimizerStep } from "../finetune/step";
import { buildModel, MODEL_NAMES } from "../models/reference-models";
import { Optimizer } from "../optim";
import { distillLoss, runDistillJob, teacherOutputs } from "./distill-job";
import { createRegressor } from "./regressor";
import { freezeModel } from "./teacher";

const tmp: string[] = [];
function fakeCtx() {
  const dir = mkdtempSync(join(tmpdir(), "heron-distill-"));
  tmp.push(dir);
  const logs: { step: number; m: Record<string, number> }[] = [];
  const texts: { key: string; rows: TextSample[]; step: number }[] = [];
  const lines: string[] = [];
  let summary: Record<string, unknown> = {};
  const ctx: JobContext = {
    log: (m, step) => logs.push({ step, m }),
    logText: (key, rows, step) => texts.push({ key, rows, step }),
    progress: () => undefined,
    setSummary: (v) => (summary = { ...summary, ...v }),
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warn: ${m}`),
    checkpointDir: join(dir, "checkpoints", "job-1"),
    signal: new AbortController().signal,
  };
  return { ctx, logs, texts, lines, summary: () => summary, dir };
}
const keys = (logs: { m: Record<string, number> }[]) => new Set(logs.flatMap((l) => Object.keys(l.m)));

beforeAll(async () => {
  await selectBackend();
});
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe("distillation", () => {
  it("feature shapes used by submit-time checks match the models' real forward pass", () => {
    for (const input of [
      [28, 28, 1],
      [32, 32, 3],
    ] as [number, number, number][])
      for (const name of MODEL_NAMES) {
        const m = buildModel(name, input);
        const out = tf.tidy(() => {
          const o = m.forward(tf.zeros([2, ...input]) as tf.Tensor4D);
          return { features: o.features?.shape[1], map: o.featureMap?.shape.slice(1) };
        });
        const d = describeDistillFeatures(name, input);
        expect(out.features).toBe(d.features);
        expect(out.map ?? null).toEqual(d.featureMap);
        m.dispose();
      }
    // seed 003 on CIFAR-10: teacher 2048 → pooled to the student's 1024; maps 8×8×32 vs 8×8×16
    expect(describeDistillFeatures("deep-cnn", [32, 32, 3])).toEqual({ features: 2048, featureMap: [8, 8, 32] });
    expect(describeDistillFeatures("light-cnn", [32, 32, 3])).toEqual({ features: 1024, featureMap: [8, 8, 16] });
  });

  it("the teacher is frozen: no gradient reaches it and its weights never change", () => {
    const input: [number, number, number] = [28, 28, 1];
    const teacher = freezeModel(buildModel("deep-cnn", input, 10, { seed: 3 }));
    const student = buildModel("light-cnn", input, 10, { seed: 4 });
    const before = teacher.getWeights();
    const x = tf.randomNormal([4, ...input]) as tf.Tensor4D;
    const y = tf.tensor1d([1, 2, 3, 4], "int32");
    const spec = { T: 2, softWeight: 0.25, ceWeight: 0.75, hiddenWeight: 0.25 };
    for (const method of ["kd", "cosine", "regressor"] as const) {
      const reg = method === "regressor" ? createRegressor(student, teacher, input, 1) : null;
      const t = teacherOutputs(teacher, x, method, 784);
      // even with the teacher's variables made trainable and offered to autograd, the
      // loss has no path to them: its outputs were computed outside the tape (no_grad)
      for (const v of teacher.params.values()) v.trainable = true;
      const all = new Map([...student.params, ...[...teacher.params].map(([n, v]) => [`teacher.${n}`, v] as const), ...(reg?.params ?? [])]);
      const { grads } = accumulateGradients(all, [{ weight: 1, loss: () => distillLoss(method, spec, student, reg, x, y, t, 1) }]);
      expect([...grads.keys()].filter((k) => k.startsWith("teacher."))).toEqual([]);
      expect(grads.has("classifier.3.weight")).toBe(true);
      if (reg) expect(grads.has("regressor.0.weight")).toBe(true);
      tf.dispose([...grads.values()]);
      freezeModel(teacher);
      // and real optimizer steps leave it bit-identical while the student moves
      const params = new Map([...student.params, ...(reg?.params ?? [])]);
      const opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, params);
      const s0 = student.getWeights()["classifier.3.weight"]!.slice();
      for (let i = 0; i < 2; i++) optimizerStep(params, [{ weight: 1, loss: () => distillLoss(method, spec, student, reg, x, y, t, i) }], opt, 1e-3);
      expect(student.getWeights()["classifier.3.weight"]).not.toEqual(s0);
      opt.dispose();
      tf.dispose([t.logits, t.features, t.featureMap].filter((v) => v !== undefined));
    }
    const after = teacher.getWeights();
    for (const k of Object.keys(before)) expect(after[k]).toEqual(before[k]);
    teacher.dispose();
    student.dispose();
  });

  it("runs all four methods in one job (teacher trained first), logging each method's loss parts", async () => {
    const f = fakeCtx();
    const spec = DistillSpecSchema.parse({
      kind: "distill",
      teacher: { model: "light-cnn", epochs: 1, maxTrainSamples: 256 },
      student: "light-cnn",
      methods: ["ce", "kd", "cosine", "regressor"],
      dataset: "synthetic",
      epochs: 1,
      batchSize: 32,
      lr: 0.001,
      maxTrainSamples: 128,
      maxTestSamples: 64,
      seed: 5,
      logEvery: 2,
    });
    const res = await runDistillJob(spec, f.ctx);
    const k = keys(f.logs);
    for (const m of ["ce", "kd", "cosine", "regressor"]) {
      expect(k.has(`${m}/train/loss`)).toBe(true);
      expect(k.has(`${m}/train/grad_norm`)).toBe(true);
      expect(k.has(`${m}/test/accuracy`)).toBe(true);
      expect(typeof res.summary[`${m}/test_accuracy`]).toBe("number");
    }
    expect(k.has("kd/loss/soft")).toBe(true);
    expect(k.has("ce/loss/soft")).toBe(false);
    expect(k.has("cosine/loss/hidden") && k.has("regressor/loss/hidden")).toBe(true);
    expect(res.summary.teacher_params).toBe(206_010);
    // the regressor adds a trainable conv (16→16, 3×3) on top of the student
    expect(res.summary["regressor/trainable_params"]).toBe(206_010 + 9 * 16 * 16 + 16);
    expect(res.summary["ce/student_params"]).toBe(206_010);
  });

  it("a stopped or crashed attempt resumes mid-epoch and ends bit-identical to an uninterrupted run", async () => {
    // 96 samples / 16 = 6 steps per epoch, 12 in all; the regressor's weights travel too
    const spec = DistillSpecSchema.parse({
      kind: "distill",
      teacher: { model: "light-cnn", epochs: 1, maxTrainSamples: 64, batchSize: 32 },
      student: "light-cnn",
      methods: ["regressor"],
      dataset: "synthetic",
      epochs: 2,
      batchSize: 16,
      lr: 0.001,
      maxTrainSamples: 96,
      maxTestSamples: 32,
      seed: 9,
      logEvery: 1,
      checkpointEvery: 2,
    });
    const full = fakeCtx();
    await runDistillJob(spec, full.ctx);
    const lossAt = (logs: { step: number; m: Record<string, number> }[], step: number) =>
      logs.find((l) => l.step === step && "train/loss" in l.m)!.m["train/loss"];

    const f = fakeCtx();
    const dir = f.ctx.checkpointDir;
    // attempt 1 is asked to stop (drain/cancel) during step 3: it checkpoints there, mid-epoch
    const stop = new AbortController();
    const r1 = await runDistillJob(spec, { ...f.ctx, signal: stop.signal, log: (m, step) => void (step === 3 && "train/loss" in m && stop.abort()) });
    expect(r1.summary.stopped).toBe("aborted");
    const ck1 = loadLatestCheckpoint(dir)!;
    expect([ck1.step, ck1.epoch, ck1.stepInEpoch]).toEqual([3, 0, 3]);
    // attempt 2 dies at step 9: its newest checkpoint is checkpointEvery's, step 8 (epoch 2, step 2 of 6)
    const crash = (m: Record<string, number>, step: number) => {
      if (step === 9 && "train/loss" in m) throw new Error("host died");
    };
    await expect(runDistillJob(spec, { ...f.ctx, log: crash })).rejects.toThrow(/host died/);
    const ck2 = loadLatestCheckpoint(dir)!;
    expect([ck2.step, ck2.epoch, ck2.stepInEpoch]).toEqual([8, 1, 2]);
    // attempt 3 finishes
    const logs: { step: number; m: Record<string, number> }[] = [];
    await runDistillJob(spec, { ...f.ctx, log: (m, step) => logs.push({ step, m }) });
    expect(f.lines).toContain("regressor: resumed from checkpoint at step 3 (epoch 1, step 3 of 6)");
    expect(f.lines).toContain("regressor: resumed from checkpoint at step 8 (epoch 2, step 2 of 6)");
    expect(logs.filter((l) => "train/loss" in l.m).map((l) => l.step)).toEqual([9, 10, 11, 12]);
    for (const step of [9, 10, 11, 12]) expect(lossAt(logs, step)).toBe(lossAt(full.logs, step));
    // bit-identical: every weight (student + regressor) and every Adam slot
    const a = loadLatestCheckpoint(full.ctx.checkpointDir)!;
    const b = loadLatestCheckpoint(dir)!;
    expect([b.step, b.epoch, b.stepInEpoch]).toEqual([12, 2, 0]);
    expect(Object.keys(b.weights).some((k) => k.startsWith("regressor."))).toBe(true);
    for (const group of ["weights", "slots"] as const) {
      const [x, y] = group === "weights" ? [a.weights, b.weights] : [a.optimizer.slots, b.optimizer.slots];
      expect(Object.keys(y).sort()).toEqual(Object.keys(x).sort());
      const bytes = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
      for (const k of Object.keys(x)) expect(bytes(y[k]!).equals(bytes(x[k]!)), `${group} ${k}`).toBe(true);
    }
    expect(b.optimizer.step).toBe(a.optimizer.step);
  }, 120_000);

  it("a teacher run whose checkpoint is not on this host fails with the reason", async () => {
    const f = fakeCtx();
    const spec: DistillSpecInput = {
      kind: "distill",
      teacher: { runId: "run-x", jobId: "job-gone" },
      methods: ["kd"],
      dataset: "synthetic",
      epochs: 1,
      batchSize: 8,
      lr: 0.001,
      maxTrainSamples: 8,
      maxTestSamples: 8,
    };
    await expect(runDistillJob(spec, f.ctx)).rejects.toThrow(/teacher run run-x \(job job-gone\): no checkpoint on this runner's host/);
    await expect(runDistillJob({ ...spec, teacher: { runId: "run-x" } }, f.ctx)).rejects.toThrow(/job id is unknown/);
  });

  it("refuses specs whose shapes cannot be aligned, naming the field", () => {
    const base = { kind: "distill", methods: ["regressor"], dataset: "mnist", epochs: 1, batchSize: 8, lr: 0.001 };
    const r1 = DistillSpecSchema.safeParse({ ...base, teacher: { model: "deep-cnn", epochs: 1 }, student: "mlp-mnist" });
    expect(r1.success).toBe(false);
    expect(r1.error!.issues[0]!.message).toMatch(/regressor needs a convolutional student/);
    const r2 = DistillSpecSchema.safeParse({ ...base, teacher: { model: "mlp-mnist", epochs: 1 } });
    expect(r2.error!.issues[0]!.message).toMatch(/regressor needs a convolutional teacher/);
    const r3 = DistillSpecSchema.safeParse({ ...base, methods: ["cosine", "cosine"], teacher: { runId: "r" } });
    expect(r3.error!.issues.map((i) => i.message).join()).toMatch(/must not repeat/);
    const r4 = DistillSpecSchema.safeParse({ ...base, methods: ["fancy"], teacher: { runId: "r" } });
    expect(r4.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join()).toMatch(/methods.0: method must be one of ce, kd, cosine, regressor/);
    const ok = DistillSpecSchema.parse({ ...base, methods: ["kd"], teacher: { runId: "r" } });
    expect([ok.T, ok.softWeight, ok.ceWeight, ok.student]).toEqual([2, 0.25, 0.75, "light-cnn"]);
  });
});
