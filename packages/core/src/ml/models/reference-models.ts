/**
 * The four reference models, layer for layer as their PyTorch originals (the MNIST/CIFAR MLPs;
 * distillation's DeepNN teacher and LightNN student, docs/distill-finetune.md), with PyTorch's parameter names ("features.0.weight") and
 * PyTorch's default init (U(±1/√fan_in) for weights and biases).
 *
 * `ReferenceModel` is what trainers and the distillation helper use:
 *   - `forward(x, { training, seed })` → `{ logits, features?, featureMap? }`
 *       logits     [N, classes]
 *       features   flattened conv output in PyTorch's (C,H,W) order — seed 003's
 *                  "flattened_conv_output" for the cosine loss (deep-cnn 2048, light-cnn 1024);
 *                  for the MLPs the 128-unit hidden layer after ReLU
 *       featureMap last conv block's output, NHWC (deep-cnn [N,8,8,32], light-cnn [N,8,8,16])
 *                  for seed 003's regressor/MSE method; absent for MLPs
 *     Call it inside tf.tidy / tf.variableGrads — it allocates tensors.
 *   - `params`: name → tf.Variable (trainable), in definition order.
 * Weights are NHWC/[in,out] (tfjs layout): conv [kh,kw,in,out], linear [in,out].
 */
import * as tf from "@tensorflow/tfjs";

import { Rng } from "../rng";
import { type ForwardOptions, type ForwardTap, inferLayers, type LayerInfo, type LayerSpec, runLayers } from "./layers";
import { formatModelSummary } from "./summary";

export const MODEL_NAMES = ["mlp-mnist", "mlp-cifar", "deep-cnn", "light-cnn"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

type ModelDef = { defaultInput: [number, number, number]; layers: (classes: number) => LayerSpec[]; tap: ForwardTap };

const MLP =
  (hidden: string, out: string): ModelDef["layers"] =>
  (classes) => [
    { kind: "flatten", name: "flatten", order: "hwc" },
    { kind: "dense", name: hidden, units: 128 },
    { kind: "relu", name: "relu" },
    { kind: "dense", name: out, units: classes },
  ];

const MODELS: Record<ModelName, ModelDef> = {
  "mlp-mnist": { defaultInput: [28, 28, 1], layers: MLP("layer1", "layer2"), tap: { featuresLayer: "relu" } },
  "mlp-cifar": { defaultInput: [32, 32, 3], layers: MLP("fc1", "fc2"), tap: { featuresLayer: "relu" } },
  "deep-cnn": {
    defaultInput: [32, 32, 3],
    layers: (classes) => [
      { kind: "conv3x3", name: "features.0", filters: 128 },
      { kind: "relu", name: "features.1" },
      { kind: "conv3x3", name: "features.2", filters: 64 },
      { kind: "relu", name: "features.3" },
      { kind: "maxpool2", name: "features.4" },
      { kind: "conv3x3", name: "features.5", filters: 64 },
      { kind: "relu", name: "features.6" },
      { kind: "conv3x3", name: "features.7", filters: 32 },
      { kind: "relu", name: "features.8" },
      { kind: "maxpool2", name: "features.9" },
      { kind: "flatten", name: "flatten", order: "chw" },
      { kind: "dense", name: "classifier.0", units: 512 },
      { kind: "relu", name: "classifier.1" },
      { kind: "dropout", name: "classifier.2", rate: 0.1 },
      { kind: "dense", name: "classifier.3", units: classes },
    ],
    tap: { featureMapLayer: "features.9", featuresLayer: "flatten" },
  },
  "light-cnn": {
    defaultInput: [32, 32, 3],
    layers: (classes) => [
      { kind: "conv3x3", name: "features.0", filters: 16 },
      { kind: "relu", name: "features.1" },
      { kind: "maxpool2", name: "features.2" },
      { kind: "conv3x3", name: "features.3", filters: 16 },
      { kind: "relu", name: "features.4" },
      { kind: "maxpool2", name: "features.5" },
      { kind: "flatten", name: "flatten", order: "chw" },
      { kind: "dense", name: "classifier.0", units: 256 },
      { kind: "relu", name: "classifier.1" },
      { kind: "dropout", name: "classifier.2", rate: 0.1 },
      { kind: "dense", name: "classifier.3", units: classes },
    ],
    tap: { featureMapLayer: "features.5", featuresLayer: "flatten" },
  },
};

export function isModelName(s: string): s is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(s);
}

export type ModelDescription = {
  name: ModelName;
  inputShape: [number, number, number];
  numClasses: number;
  layers: LayerInfo[];
  paramCount: number;
};

function def(name: string): ModelDef {
  if (!isModelName(name)) throw new Error(`unknown model "${name}" (known: ${MODEL_NAMES.join(", ")})`);
  return MODELS[name];
}

/** Shapes and parameter counts without allocating any tensor (planner, CLI, validation). */
export function describeModel(name: string, inputShape?: number[], numClasses = 10): ModelDescription {
  const d = def(name);
  const shape = inputShape ?? d.defaultInput;
  if (shape.length !== 3 || shape.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name}: input shape must be H,W,C positive integers, got [${shape}]`);
  const layers = inferLayers(name, d.layers(numClasses), shape);
  return {
    name: name as ModelName,
    inputShape: shape as [number, number, number],
    numClasses,
    layers,
    paramCount: layers.reduce((a, l) => a + l.paramCount, 0),
  };
}

export type ForwardResult = { logits: tf.Tensor2D; features?: tf.Tensor2D; featureMap?: tf.Tensor4D };

export type ReferenceModel = {
  readonly name: ModelName;
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly layers: LayerInfo[];
  readonly params: Map<string, tf.Variable>;
  readonly trainableWeights: tf.Variable[];
  readonly paramCount: number;
  /** use the hand-written conv gradient (set by the trainer on wasm/cpu) */
  fastConv: boolean;
  forward(x: tf.Tensor4D, opts?: ForwardOptions): ForwardResult;
  summary(): string;
  /** copies of all weights by PyTorch name (checkpoints, teacher export) */
  getWeights(): Record<string, Float32Array>;
  setWeights(w: Record<string, Float32Array>): void;
  dispose(): void;
};

let instanceCounter = 0;

/** Allocates the model's variables with seeded PyTorch-default init. */
export function buildModel(name: string, inputShape?: number[], numClasses = 10, opts: { seed?: number } = {}): ReferenceModel {
  const d = def(name);
  const desc = describeModel(name, inputShape, numClasses);
  const specs = d.layers(numClasses);
  const seed = opts.seed ?? 0;
  const prefix = `${name}#${++instanceCounter}`;
  const params = new Map<string, tf.Variable>();
  for (const layer of desc.layers)
    for (const p of layer.params) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(p.fanIn);
      const rng = Rng.derive(seed, "init", name, p.name);
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = rng.uniform(-bound, bound);
      params.set(
        p.name,
        tf.tidy(() => tf.variable(tf.tensor(values, p.shape, "float32"), true, `${prefix}/${p.name}`)),
      );
    }
  const model: ReferenceModel = {
    name: desc.name,
    inputShape: desc.inputShape,
    numClasses,
    layers: desc.layers,
    params,
    trainableWeights: [...params.values()],
    paramCount: desc.paramCount,
    fastConv: false,
    forward(x, o = {}) {
      const [h, w, c] = desc.inputShape;
      if (x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) throw new Error(`${name}: expected input [N,${h},${w},${c}], got [${x.shape}]`);
      return runLayers(specs, params, x, { fastConv: model.fastConv, ...o }, d.tap);
    },
    summary: () => formatModelSummary(desc),
    getWeights() {
      const out: Record<string, Float32Array> = {};
      for (const [n, v] of params) out[n] = v.dataSync() as Float32Array;
      return out;
    },
    setWeights(wts) {
      for (const [n, v] of params) {
        const arr = wts[n];
        if (!arr) throw new Error(`${name}: weights lack ${n}`);
        if (arr.length !== v.size) throw new Error(`${name}: ${n} has ${arr.length} values, expected ${v.size}`);
        tf.tidy(() => v.assign(tf.tensor(arr, v.shape, "float32")));
      }
    },
    dispose() {
      for (const v of params.values()) v.dispose();
    },
  };
  return model;
}
