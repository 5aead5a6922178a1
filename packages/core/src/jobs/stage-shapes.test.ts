// The names and shapes the server checks pipelines with (stage-shapes.ts, no tensors) are
// exactly those of the models the jobs build: every reference model on every input shape,
// the char transformer (both MLPs), the mini VLM (encoder and full, on the synthetic
// dataset, its vocabulary and context filled in).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { selectBackend } from "../ml/backend";
import { loadDataset } from "../ml/datasets";
import { buildModel, MODEL_NAMES } from "../ml/models/reference-models";
import { CharTransformer } from "../ml/text/char-transformer";
import { MiniVlm } from "../ml/vlm/model";
import { vlmSetup } from "../ml/vlm/vlm-job";
import { DATASET_SHAPES } from "../schemas/distill-spec";
import { VlmStageSpecSchema } from "../schemas/vlm-spec";
import { imageModelShapes, type TensorShapes, textModelShapes, vlmShapes } from "./stage-shapes";

const real = (params: Map<string, tf.Variable>) => [...params].map(([n, v]) => [n, [...v.shape]]);
const pure = (s: TensorShapes, fill: (d: string) => number = () => NaN) =>
  [...s].map(([n, shape]) => [n, shape.map((d) => (typeof d === "string" ? fill(d) : d))]);

describe("stage shapes", () => {
  beforeAll(async () => {
    await selectBackend();
  });
  afterAll(() => tf.disposeVariables());

  it("match the reference models on every dataset's input shape", () => {
    for (const model of MODEL_NAMES)
      for (const input of Object.values(DATASET_SHAPES)) {
        const m = buildModel(model, input, 10);
        expect(pure(imageModelShapes(model, input)), `${model} on ${input.join("×")}`).toEqual(real(m.params));
        m.dispose();
      }
  });

  it("match the char transformer, gated and ReLU MLP", () => {
    for (const mlp of ["swiglu", "relu"] as const) {
      const config = { dModel: 32, layers: 2, heads: 4, context: 40, mlp };
      const m = new CharTransformer(config, 0);
      expect(pure(textModelShapes(config)).sort()).toEqual(real(m.params).sort());
    }
  });

  it("match the mini VLM, encoder stage and full model", () => {
    const ds = loadDataset("synthetic", { maxTrainSamples: 16, maxTestSamples: 8 });
    for (const stage of ["encoder", "pretrain"] as const) {
      const spec = VlmStageSpecSchema.parse({
        kind: "vlm-stage",
        stage,
        dataset: "synthetic",
        encoder: { channels: [4, 8] },
        lm: { dModel: 16, layers: 2, heads: 2 },
        patchPool: 2,
      });
      const { config } = vlmSetup(spec, ds);
      const m = new MiniVlm(config, stage === "encoder" ? "encoder" : "full", 0);
      const fill = (d: string) => (d.startsWith("vocab(") ? m.lmConfig.vocab : m.lmConfig.context);
      expect(pure(vlmShapes(spec), fill).sort()).toEqual(real(m.params).sort());
    }
  });
});
