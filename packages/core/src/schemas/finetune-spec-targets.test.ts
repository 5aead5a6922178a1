import { describe, expect, it } from "vitest";

import { type FinetuneSpecInput, FinetuneSpecSchema, matchesLoraTarget, selectLoraTargets } from "./finetune-spec";

const layer = "layers.0.attn.q_proj_with_a_rather_long_name_that_never_ends_in_a_bang";

const spec = (targets: string[]): FinetuneSpecInput => ({
  kind: "finetune",
  task: "image",
  base: { runId: "run_1" },
  method: "lora",
  lora: { r: 4, alpha: 16, targets },
  dataset: "mnist",
  epochs: 1,
  batchSize: 32,
  lr: 0.01,
});

describe("LoRA target patterns", () => {
  it.each([20, 60])("%i stars followed by a literal are matched in milliseconds", (stars) => {
    const t0 = performance.now();
    expect(matchesLoraTarget(layer, `${"*".repeat(stars)}!`)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it("keeps PEFT matching: full names, dotted suffixes, * within a segment, ** across segments", () => {
    const layers = ["layers.0.attn.q_proj", "layers.1.attn.q_proj", "layers.0.mlp.up_proj", "lm_head"].map((name) => ({ name, inFeatures: 8, outFeatures: 8 }));
    const names = (targets: string[]) => selectLoraTargets(layers, { r: 4, targets }).map((l) => l.name);
    expect(names(["q_proj"])).toEqual(["layers.0.attn.q_proj", "layers.1.attn.q_proj"]);
    expect(names(["*_proj"])).toEqual(["layers.0.attn.q_proj", "layers.1.attn.q_proj", "layers.0.mlp.up_proj"]);
    expect(names(["layers.*.attn.*"])).toEqual(["layers.0.attn.q_proj", "layers.1.attn.q_proj"]);
    expect(names(["layers.**"])).toEqual(["layers.0.attn.q_proj", "layers.1.attn.q_proj", "layers.0.mlp.up_proj"]);
    expect(names(["lm_head"])).toEqual(["lm_head"]);
    expect(matchesLoraTarget("layers.0.attn.q_proj", "attn.q")).toBe(false);
  });

  it("the spec refuses over-long patterns and too many of them, naming the field", () => {
    const long = FinetuneSpecSchema.safeParse(spec(["a".repeat(300)]));
    expect(long.success).toBe(false);
    expect(long.error!.issues[0]!.path).toEqual(["lora", "targets", 0]);
    expect(long.error!.issues[0]!.message).toMatch(/lora\.targets\[0\].*longer than/);
    const many = FinetuneSpecSchema.safeParse(spec(Array.from({ length: 500 }, (_, i) => `layer${i}`)));
    expect(many.success).toBe(false);
    expect(many.error!.issues[0]!.path).toEqual(["lora", "targets"]);
    expect(FinetuneSpecSchema.safeParse(spec(["layers.*.attn.**"])).success).toBe(true);
  });
});
