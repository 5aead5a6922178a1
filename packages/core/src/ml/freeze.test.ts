import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";

import { TrainSpecSchema } from "../schemas/train-spec";
import { applyFreeze, planFreeze } from "./freeze";
import { fakeCtx } from "./test-helpers";

const sizes = new Map(
  Object.entries({
    "encoder.conv1.kernel": { size: 72 },
    "encoder.conv1.bias": { size: 8 },
    "proj.kernel": { size: 64 },
    "lm.layers.0.attn.q_proj.kernel": { size: 16 },
    "lm.layers.1.attn.q_proj.kernel": { size: 16 },
    "lm.head.kernel": { size: 40 },
  }),
);

describe("freezing by parameter-name patterns", () => {
  it("trains only `train` matches, freezes `freeze` matches (freeze wins), counts elements", () => {
    const p = planFreeze(sizes, { train: ["proj.**", "lm.layers.1.**", "lm.head.*"], freeze: ["lm.head.**"] });
    expect(p.trainable).toEqual(["proj.kernel", "lm.layers.1.attn.q_proj.kernel"]);
    expect(p.frozen).toEqual(["encoder.conv1.kernel", "encoder.conv1.bias", "lm.layers.0.attn.q_proj.kernel", "lm.head.kernel"]);
    expect(p.trainableCount).toBe(80);
    expect(p.totalCount).toBe(216);
    expect(planFreeze(sizes, { freeze: ["encoder.**"] }).trainable).toHaveLength(4);
    expect(planFreeze(sizes, {}).frozen).toEqual([]);
  });

  it("names a pattern that matches nothing instead of training everything", () => {
    expect(() => planFreeze(sizes, { freeze: ["encoder.**", "encodr.**"] })).toThrow(
      /freeze: "encodr\.\*\*" matches no parameter \(parameters: encoder\.conv1\.kernel/,
    );
    expect(() => planFreeze(sizes, { train: ["lm.layers.7.**"] })).toThrow(/train: "lm\.layers\.7\.\*\*" matches no parameter/);
  });

  it("marks frozen variables non-trainable, hands only trainable ones back and logs the counts", () => {
    const vars = new Map([...sizes].map(([n, s]) => [n, tf.variable(tf.zeros([s.size]))]));
    const ctx = fakeCtx();
    const fz = applyFreeze(vars, { freeze: ["encoder.**"] }, ctx, "stage: ");
    expect([...fz.trainable.keys()]).toEqual(["proj.kernel", "lm.layers.0.attn.q_proj.kernel", "lm.layers.1.attn.q_proj.kernel", "lm.head.kernel"]);
    expect(vars.get("encoder.conv1.kernel")!.trainable).toBe(false);
    expect(vars.get("proj.kernel")!.trainable).toBe(true);
    expect(ctx.summary).toMatchObject({ "params/trainable": 136, "params/total": 216 });
    expect(ctx.infos[0]).toMatch(/^stage: trainable parameters: 136 of 216 .*2 tensor\(s\) frozen/);
    expect(() => applyFreeze(vars, { freeze: ["**"] })).toThrow(/leave no parameter to train/);
    for (const v of vars.values()) v.dispose();
  });

  it("is part of every training spec, with pattern errors at submit", () => {
    const base = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
    const s = TrainSpecSchema.parse({ ...base, freeze: ["layer1.*"], checkpoint: { excludeFrozen: false }, init: { fromStage: "a", load: ["layer1.**"] } });
    expect(s.freeze).toEqual(["layer1.*"]);
    const bad = TrainSpecSchema.safeParse({ ...base, freeze: ["layer1..weight"] });
    expect(bad.error?.issues[0]?.message).toMatch(/freeze\[0\] has an empty segment/);
    expect(TrainSpecSchema.safeParse({ ...base, init: { bogus: 1 } }).success).toBe(false);
  });
});
