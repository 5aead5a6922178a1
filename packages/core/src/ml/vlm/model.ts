/**
 * The mini VLM (seed 001's MiniMind-V, CPU-sized): image encoder → patch tokens →
 * projection → word-level LM. One name → variable map for all of it, so freezing, loading
 * and checkpoints work by name:
 *   encoder.conv<i>                3×3 conv → ReLU → 2×2 max-pool blocks (NHWC)
 *   encoder.head                   the classifier the encoder stage trains (stands in for CLIP's pre-training)
 *   proj                           Linear(C, d): each patch token into the LM's hidden size
 *   lm.*                           vlm/lm.ts
 * The encoder's last feature map [h, w, C], average-pooled by `patchPool`, is the grid of
 * T patch tokens; the T `<image>` placeholder positions of a prompt are replaced by them.
 */
import * as tf from "@tensorflow/tfjs";

import { inferLayers, type LayerSpec, runLayers } from "../models/layers";
import { Rng } from "../rng";
import { embedTokens, type LmConfig, lmHidden, lmLogits, lmParamSpecs } from "./lm";
import { IMAGE } from "./tokenizer";

export type VlmConfig = {
  inputShape: [number, number, number];
  numClasses: number;
  channels: number[];
  patchPool: number;
  lm: Omit<LmConfig, "context">;
  /** longest text (prompt words + answer words + specials) the LM must hold besides the image tokens */
  maxTextTokens: number;
};

/** "encoder": the encoder stage's model (no projection, no LM); "full": everything */
export type VlmParts = "encoder" | "full";

export function encoderLayers(c: Pick<VlmConfig, "channels" | "numClasses">): LayerSpec[] {
  const blocks = c.channels.flatMap((filters, i): LayerSpec[] => [
    { kind: "conv3x3", name: `encoder.conv${i + 1}`, filters },
    { kind: "relu", name: `encoder.relu${i + 1}` },
    { kind: "maxpool2", name: `encoder.pool${i + 1}` },
  ]);
  return [...blocks, { kind: "flatten", name: "encoder.flatten", order: "hwc" }, { kind: "dense", name: "encoder.head", units: c.numClasses }];
}

/** the layer whose output is the patch-token grid: the last conv block's pool */
const featureLayer = (c: Pick<VlmConfig, "channels">) => `encoder.pool${c.channels.length}`;

/** patch grid of the config: rows × cols tokens of width C */
export function patchGrid(c: VlmConfig): { rows: number; cols: number; tokens: number; width: number } {
  const layers = inferLayers("vlm encoder", encoderLayers(c), c.inputShape);
  const [h, w, ch] = layers.find((l) => l.name === featureLayer(c))!.outputShape as [number, number, number];
  const rows = Math.ceil(h / c.patchPool);
  const cols = Math.ceil(w / c.patchPool);
  return { rows, cols, tokens: rows * cols, width: ch };
}

/** Linear(C, d) on every patch token: tokens [N, T, C] · W [C, d] + b → [N, T, d] */
export function projectTokens(tokens: tf.Tensor3D, w: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  const [n, t, c] = tokens.shape;
  return tf.reshape(tf.add(tf.matMul(tf.reshape(tokens, [n * t, c]), w as tf.Tensor2D), b), [n, t, w.shape[1]!]);
}

/**
 * Input embeddings [B, L, d] with each row's `<image>` placeholder positions replaced, in
 * order, by that row's image tokens [B, T, d]. ids: row-major [B, L]; every row must hold
 * exactly T placeholders. Built as emb·keep + S·image with a constant 0/1 placement matrix
 * S [B, L, T], so gradients reach the image tokens (and the projection) and no other position.
 */
export function placeImageTokens(emb: tf.Tensor3D, ids: Int32Array, imageTok: tf.Tensor3D): tf.Tensor3D {
  const [B, length] = emb.shape;
  const T = imageTok.shape[1];
  const place = new Float32Array(B * length * T);
  const keep = new Float32Array(B * length).fill(1);
  for (let b = 0; b < B; b++) {
    let t = 0;
    for (let pos = 0; pos < length; pos++)
      if (ids[b * length + pos] === IMAGE) {
        if (t >= T) throw new Error(`vlm: row ${b} holds more than ${T} <image> placeholders`);
        place[(b * length + pos) * T + t++] = 1;
        keep[b * length + pos] = 0;
      }
    if (t !== T) throw new Error(`vlm: row ${b} holds ${t} <image> placeholders, the image has ${T} tokens`);
  }
  return tf.add(tf.mul(emb, tf.tensor3d(keep, [B, length, 1])), tf.matMul(tf.tensor3d(place, [B, length, T]), imageTok)) as tf.Tensor3D;
}

let counter = 0;

export class MiniVlm {
  readonly params = new Map<string, tf.Variable>();
  readonly lmConfig: LmConfig;
  readonly imageTokens: number;
  private readonly encoderSpecs: LayerSpec[];
  /** the hand-written conv gradient (wasm/cpu) when the encoder trains */
  fastConv = false;

  constructor(
    readonly config: VlmConfig,
    readonly parts: VlmParts,
    seed: number,
  ) {
    const id = ++counter;
    this.encoderSpecs = encoderLayers(config);
    const grid = patchGrid(config);
    this.imageTokens = grid.tokens;
    this.lmConfig = { ...config.lm, context: grid.tokens + config.maxTextTokens };
    const add = (name: string, shape: number[], fill: (rng: Rng, i: number) => number) => {
      const rng = Rng.derive(seed, "vlm-init", name);
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < v.length; i++) v[i] = fill(rng, i);
      this.params.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(v, shape, "float32"), true, `vlm${id}/${name}`)),
      );
    };
    // PyTorch's default init for conv/linear: U(±1/√fan_in) for weights and biases
    const torchInit = (fanIn: number) => (rng: Rng) => rng.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    for (const l of inferLayers("vlm encoder", this.encoderSpecs, config.inputShape)) for (const p of l.params) add(p.name, p.shape, torchInit(p.fanIn));
    if (parts === "encoder") return;
    add("proj.weight", [grid.width, config.lm.dModel], torchInit(grid.width));
    add("proj.bias", [config.lm.dModel], torchInit(grid.width));
    for (const p of lmParamSpecs(this.lmConfig)) add(p.name, p.shape, (rng) => (p.init === "ones" ? 1 : p.init === "zeros" ? 0 : 0.02 * rng.normal()));
  }

  get paramCount(): number {
    return [...this.params.values()].reduce((a, v) => a + v.size, 0);
  }

  private readonly p = (name: string): tf.Tensor => {
    const v = this.params.get(name);
    if (!v) throw new Error(`vlm model (${this.parts}) lacks ${name}`);
    return v;
  };

  /** images [N, H, W, C] → class logits and the last feature map */
  encode(x: tf.Tensor4D, training = false): { logits: tf.Tensor2D; featureMap: tf.Tensor4D } {
    const r = runLayers(this.encoderSpecs, this.params, x, { training, fastConv: training && this.fastConv }, { featureMapLayer: featureLayer(this.config) });
    return { logits: r.logits, featureMap: r.featureMap! };
  }

  /** feature map [N, h, w, C] → patch tokens [N, T, C] (average-pooled grid, row-major) */
  patchTokens(featureMap: tf.Tensor4D): tf.Tensor3D {
    const k = this.config.patchPool;
    const pooled = k === 1 ? featureMap : tf.avgPool(featureMap, k, k, "same");
    const [n, , , c] = pooled.shape;
    return tf.reshape(pooled, [n, this.imageTokens, c]);
  }

  /** patch tokens [N, T, C] → image tokens in the LM's hidden size [N, T, d] */
  project(tokens: tf.Tensor3D): tf.Tensor3D {
    return projectTokens(tokens, this.p("proj.weight"), this.p("proj.bias"));
  }

  /**
   * ids [B, L] (row-major Int32Array) with T `<image>` ids per row → final hidden states
   * [B, L, d]: the placeholder positions take the row's image tokens, in order.
   */
  hidden(ids: Int32Array, length: number, imageTok: tf.Tensor3D): tf.Tensor3D {
    const B = ids.length / length;
    if (imageTok.shape[1] !== this.imageTokens) throw new Error(`vlm: ${imageTok.shape[1]} image tokens, the model takes ${this.imageTokens}`);
    const emb = embedTokens(tf.tensor2d(ids, [B, length], "int32"), this.p, this.lmConfig);
    return lmHidden(placeImageTokens(emb, ids, imageTok), this.p, this.lmConfig);
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    return lmLogits(hidden, this.p, this.lmConfig);
  }

  /** values of every parameter by name (copies) */
  getWeights(): Record<string, Float32Array> {
    return Object.fromEntries([...this.params].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  }

  setWeights(w: Record<string, Float32Array>): void {
    for (const [n, v] of this.params) {
      const a = w[n];
      if (!a) throw new Error(`vlm checkpoint lacks ${n}`);
      if (a.length !== v.size) throw new Error(`vlm checkpoint ${n} has ${a.length} values, the model's has ${v.size} (the model config differs)`);
      tf.tidy(() => v.assign(tf.tensor(a, v.shape, "float32")));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
