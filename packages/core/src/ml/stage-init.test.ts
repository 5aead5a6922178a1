import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { type TrainSpecInput } from "../schemas/train-spec";
import { CheckpointManifestSchema } from "../schemas/training-fields";
import { checkpointDirName, listCheckpoints, loadLatestCheckpoint } from "./checkpoint";
import { runDistillJob } from "./distill/distill-job";
import { buildModel } from "./models/reference-models";
import { fakeCtx, maxAbsDiff } from "./test-helpers";
import { runTrainJob } from "./trainer";

const base: TrainSpecInput = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01, seed: 3, maxTrainSamples: 128 };

/** `<root>/<jobId>/` job folders, as a runner lays out `<HERON_HOME>/checkpoints/` */
function jobDirs() {
  const root = mkdtempSync(join(tmpdir(), "heron-stages-"));
  return (jobId: string) => {
    const d = join(root, jobId);
    mkdirSync(d, { recursive: true });
    return d;
  };
}

describe("a train stage started from an earlier stage, with frozen layers", () => {
  it("keeps frozen weights bit-identical, leaves them out of its checkpoint and restores the full model", async () => {
    const dir = jobDirs();
    await runTrainJob(base, fakeCtx({ dir: dir("stage-a") }));
    const a = loadLatestCheckpoint(dir("stage-a"))!;

    const ctx = fakeCtx({ dir: dir("stage-b") });
    await runTrainJob({ ...base, seed: 9, epochs: 2, freeze: ["layer1.**"], init: { fromStage: "a", jobId: "stage-a", sources: ["stage-a"] } }, ctx);
    expect(ctx.summary).toMatchObject({ "params/trainable": 1290, "params/total": 101_770 });
    expect(ctx.infos.join("\n")).toMatch(/init: 4 tensor\(s\), 101,770 values from job stage-a/);

    const last = join(dir("stage-b"), listCheckpoints(dir("stage-b")).at(-1)!);
    const manifest = CheckpointManifestSchema.parse(JSON.parse(readFileSync(join(last, "manifest.json"), "utf8")));
    const byName = Object.fromEntries(manifest.tensors.map((t) => [t.name, t]));
    expect(byName["layer1.weight"]).toEqual({ name: "layer1.weight", shape: [784, 128], ref: { jobId: "stage-a", step: a.step } });
    expect(byName["layer2.weight"]).toEqual({ name: "layer2.weight", shape: [128, 10] });
    // tensors.bin holds layer2 (+ its Adam slots) only
    expect(readFileSync(join(last, "tensors.bin")).length).toBe(4 * 1290 * 3);

    const b = loadLatestCheckpoint(dir("stage-b"))!;
    expect(Object.keys(b.weights).sort()).toEqual(["layer1.bias", "layer1.weight", "layer2.bias", "layer2.weight"]);
    expect(maxAbsDiff(b.weights["layer1.weight"]!, a.weights["layer1.weight"]!)).toBe(0);
    expect(maxAbsDiff(b.weights["layer1.bias"]!, a.weights["layer1.bias"]!)).toBe(0);
    expect(maxAbsDiff(b.weights["layer2.weight"]!, a.weights["layer2.weight"]!)).toBeGreaterThan(0);
  });

  it("stores every tensor with excludeFrozen false, and names a load pattern that matches nothing", async () => {
    const dir = jobDirs();
    await runTrainJob(base, fakeCtx({ dir: dir("a") }));
    await runTrainJob({ ...base, train: ["layer2.*"], checkpoint: { excludeFrozen: false }, init: { jobId: "a" } }, fakeCtx({ dir: dir("b") }));
    const m = JSON.parse(readFileSync(join(dir("b"), listCheckpoints(dir("b")).at(-1)!, "manifest.json"), "utf8")) as { tensors: { ref?: unknown }[] };
    expect(m.tensors.filter((t) => t.ref)).toEqual([]);
    await expect(runTrainJob({ ...base, init: { jobId: "a", load: ["encoder.**"] } }, fakeCtx({ dir: dir("c") }))).rejects.toThrow(
      /init\.load: "encoder\.\*\*" matches no parameter/,
    );
    await expect(runTrainJob({ ...base, init: { jobId: "missing" } }, fakeCtx({ dir: dir("d") }))).rejects.toThrow(
      /job missing has no checkpoint on this host/,
    );
  });

  it("fails with the reason when a referenced checkpoint is not on this host", async () => {
    const dir = jobDirs();
    await runTrainJob(base, fakeCtx({ dir: dir("a") }));
    const a = loadLatestCheckpoint(dir("a"))!;
    await runTrainJob({ ...base, freeze: ["layer1.*"], init: { jobId: "a" } }, fakeCtx({ dir: dir("b") }));
    const { rmSync } = await import("node:fs");
    rmSync(join(dir("a"), checkpointDirName(a.step)), { recursive: true });
    expect(() => loadLatestCheckpoint(dir("b"), () => {})).not.toThrow();
    const warned: string[] = [];
    expect(loadLatestCheckpoint(dir("b"), (m) => warned.push(m))).toBeUndefined();
    expect(warned.join("\n")).toMatch(/tensor layer1\.(weight|bias) is kept by job a's checkpoint at step 4, which is not on this host/);
  });

  it("a distillation student honours freeze patterns: frozen layers end as initialised", async () => {
    const ctx = fakeCtx();
    await runDistillJob(
      {
        kind: "distill",
        teacher: { model: "mlp-mnist", epochs: 1 },
        student: "mlp-mnist",
        methods: ["kd"],
        dataset: "synthetic",
        epochs: 1,
        batchSize: 32,
        lr: 0.01,
        maxTrainSamples: 64,
        seed: 4,
        freeze: ["layer1.*"],
      },
      ctx,
    );
    expect(ctx.summary).toMatchObject({ "params/trainable": 1290, "params/total": 101_770 });
    const ck = loadLatestCheckpoint(ctx.checkpointDir)!;
    const fresh = buildModel("mlp-mnist", [28, 28, 1], 10, { seed: 4 });
    const init = fresh.getWeights();
    fresh.dispose();
    expect(maxAbsDiff(ck.weights["layer1.weight"]!, init["layer1.weight"]!)).toBe(0);
    expect(maxAbsDiff(ck.weights["layer2.weight"]!, init["layer2.weight"]!)).toBeGreaterThan(0);
  });
});
