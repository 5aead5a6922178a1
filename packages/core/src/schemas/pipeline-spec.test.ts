import { describe, expect, it } from "vitest";

import { formatIssues } from "../errors";
import { expandVlmRecipe } from "../jobs/vlm-recipe";
import { JobSpecSchema } from "./job-spec";
import { PipelineSpecSchema, stageJobSpec } from "./pipeline-spec";

const T = { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 };
const why = (spec: unknown) => {
  const r = JobSpecSchema.safeParse(spec);
  return r.success ? null : formatIssues(r.error.issues);
};

describe("pipeline spec", () => {
  it("fills each stage's init: the job of the stage it starts from and every earlier stage's job", () => {
    const p = PipelineSpecSchema.parse({
      kind: "pipeline",
      stages: [
        { name: "a", spec: T },
        { name: "b", spec: { ...T, freeze: ["layer1.**"] }, init: { fromStage: "a", load: ["layer*.**"] } },
        { name: "c", spec: { ...T, init: { fromStage: "a" } } },
      ],
    });
    expect(stageJobSpec(p, 0, [])).toEqual(p.stages[0]!.spec);
    expect(stageJobSpec(p, 1, ["j0"])).toMatchObject({ freeze: ["layer1.**"], init: { fromStage: "a", load: ["layer*.**"], jobId: "j0", sources: ["j0"] } });
    expect(stageJobSpec(p, 2, ["j0", "j1"])).toMatchObject({ init: { fromStage: "a", jobId: "j0", sources: ["j0", "j1"] } });
    // what the server stores is a valid job spec of the stage's kind
    expect(why(stageJobSpec(p, 2, ["j0", "j1"]))).toBeNull();
  });

  it("refuses stages that cannot be: duplicates, a later or unknown fromStage, nested pipelines, server-filled fields, too many", () => {
    expect(
      why({
        kind: "pipeline",
        stages: [
          { name: "a", spec: T },
          { name: "a", spec: T },
        ],
      }),
    ).toMatch(/stage name "a" is used twice/);
    expect(
      why({
        kind: "pipeline",
        stages: [
          { name: "a", spec: T, init: { fromStage: "b" } },
          { name: "b", spec: T },
        ],
      }),
    ).toMatch(/not an earlier stage/);
    expect(why({ kind: "pipeline", stages: [{ name: "a", spec: T, init: { fromStage: "zz" } }] })).toMatch(/no stage of that name/);
    expect(why({ kind: "pipeline", stages: [{ name: "a", spec: { kind: "vlm", dataset: "fashion-mnist" } }] })).toMatch(/a vlm cannot be a stage/);
    expect(why({ kind: "pipeline", stages: [{ name: "a", spec: { kind: "command", command: ["ls"] } }] })).toMatch(
      /kind must be one of train, distill, finetune, vlm-stage/,
    );
    expect(why({ kind: "pipeline", stages: [{ name: "a", spec: { ...T, init: { sources: ["x"] } } }] })).toMatch(/filled in by the server/);
    expect(
      why({
        kind: "pipeline",
        stages: [
          { name: "b", spec: T },
          { name: "a", spec: { ...T, init: { fromStage: "b" } }, init: { fromStage: "c" } },
        ],
      }),
    ).toMatch(/give it once/);
    expect(why({ kind: "pipeline", stages: [{ name: "bad name", spec: T }] })).toMatch(/stage name may hold/);
  });

  it("the vlm recipe expands into a valid 3-stage pipeline of vlm-stage jobs", () => {
    const p = PipelineSpecSchema.parse({ kind: "pipeline", ...expandVlmRecipe({ kind: "vlm", dataset: "fashion-mnist" }) });
    expect(p.stages.map((s) => [s.name, s.spec.kind, s.init?.fromStage])).toEqual([
      ["encoder", "vlm-stage", undefined],
      ["pretrain", "vlm-stage", "encoder"],
      ["sft", "vlm-stage", "pretrain"],
    ]);
    expect(stageJobSpec(p, 2, ["e", "p"])).toMatchObject({ kind: "vlm-stage", init: { fromStage: "pretrain", jobId: "p", sources: ["e", "p"] } });
  });

  it("the vlm recipe passes the stage checks on every dataset and model size; a hand-written mismatch does not", () => {
    for (const dataset of ["fashion-mnist", "cifar10", "synthetic"] as const)
      for (const encoder of [{ channels: [8] }, { channels: [8, 16, 32] }, { channels: [4, 4, 4, 4] }])
        for (const patchPool of [1, 2]) {
          const recipe = expandVlmRecipe({ kind: "vlm", dataset, cifarPath: "/data/cifar", encoder, patchPool, lm: { dModel: 32, layers: 3, heads: 4 } });
          expect(why({ kind: "pipeline", ...recipe }), `${dataset} ${encoder.channels.join("/")} pool ${patchPool}`).toBeNull();
        }
    const [enc, pre, sft] = expandVlmRecipe({ kind: "vlm", dataset: "fashion-mnist" }).stages;
    // the SFT stage of a wider LM cannot start from the pretrain stage's
    expect(why({ kind: "pipeline", stages: [enc, pre, { ...sft, spec: { ...sft!.spec, lm: { dModel: 128, layers: 2, heads: 4 } } }] })).toMatch(
      /stages\.2\.init\.fromStage: stage "sft": tensor proj\.weight is 32×64 in stage "pretrain"'s checkpoint but 32×128 in this stage's model/,
    );
    // nor one on another dataset: the word vocabulary differs
    expect(why({ kind: "pipeline", stages: [enc, pre, { ...sft, spec: { ...sft!.spec, dataset: "synthetic" } }] })).toMatch(
      /tensor lm\.tok_emb is vocab\(fashion-mnist\)×64 in stage "pretrain"'s checkpoint but vocab\(synthetic\)×64/,
    );
  });
});
