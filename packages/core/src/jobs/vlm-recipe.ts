/**
 * The `kind: "vlm"` recipe as a pipeline of three `vlm-stage` jobs, seed 001's schedule:
 *   encoder   trains the CNN image encoder as a classifier (everything it has trains)
 *   pretrain  starts from the encoder (loads `encoder.**`, frozen); only the projection and
 *             the LM's last layer — its last block and output head — train, on captions
 *   sft       starts from pretrain (loads everything); the whole LM and the projection train
 *             on question/answer pairs, the encoder stays frozen
 * Frozen encoder tensors are left out of the later stages' checkpoints (they point to the
 * encoder stage's). Browser-safe: the server expands the recipe at submit.
 */
import {
  VLM_STAGE_DEFAULTS,
  type VlmSpec,
  type VlmSpecInput,
  VlmSpecSchema,
  type VlmStageName,
  type VlmStageSpec,
  VlmStageSpecSchema,
} from "../schemas/vlm-spec";

export type VlmPipelineStage = { name: VlmStageName; spec: VlmStageSpec; init?: { fromStage: string; load?: string[] } };
export type VlmPipeline = { name: string; stages: VlmPipelineStage[] };

/** the parameters of the LM's last layer (as seed 001's pretrain opens them) */
export function lmLastLayerPatterns(layers: number): string[] {
  return [`lm.layers.${layers - 1}.**`, "lm.ln_f.*", "lm.head.*"];
}

export function expandVlmRecipe(input: VlmSpec | VlmSpecInput): VlmPipeline {
  const s = VlmSpecSchema.parse(input);
  const shared = {
    kind: "vlm-stage" as const,
    dataset: s.dataset,
    cifarPath: s.cifarPath,
    maxTrainSamples: s.maxTrainSamples,
    maxTestSamples: s.maxTestSamples,
    seed: s.seed,
    encoder: s.encoder,
    lm: s.lm,
    patchPool: s.patchPool,
    logEvery: s.logEvery,
    samples: s.samples,
    checkpointEvery: s.checkpointEvery,
  };
  const overrides = { encoder: s.encoderStage, pretrain: s.pretrainStage, sft: s.sftStage };
  const stage = (name: VlmStageName, extra: Record<string, unknown>): VlmStageSpec =>
    VlmStageSpecSchema.parse(JSON.parse(JSON.stringify({ ...shared, stage: name, ...VLM_STAGE_DEFAULTS[name], ...overrides[name], ...extra })));
  return {
    name: s.name ?? `vlm ${s.dataset}`,
    stages: [
      { name: "encoder", spec: stage("encoder", {}) },
      {
        name: "pretrain",
        spec: stage("pretrain", { freeze: ["encoder.**"], train: ["proj.**", ...lmLastLayerPatterns(s.lm.layers)] }),
        init: { fromStage: "encoder", load: ["encoder.**"] },
      },
      { name: "sft", spec: stage("sft", { freeze: ["encoder.**"] }), init: { fromStage: "pretrain" } },
    ],
  };
}
