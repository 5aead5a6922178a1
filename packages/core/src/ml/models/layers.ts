/**
 * The seed models as plain layer lists (no tf.layers): we own the parameters, their
 * PyTorch names and init, and the forward pass. That keeps a training step to a handful of
 * tfjs ops (no Keras fit/callback overhead), makes checkpoints a flat name → Float32Array
 * map, and gives the distillation code direct access to intermediate features.
 */
import * as tf from "@tensorflow/tfjs";

import { conv3x3ReluFast } from "./conv-ops";

export type Shape3 = [number, number, number]; // H, W, C (NHWC without the batch)

export type LayerSpec =
  /** 3×3, stride 1, padding 1 (= "same"), like PyTorch's nn.Conv2d(..., kernel_size=3, padding=1) */
  | { kind: "conv3x3"; name: string; filters: number }
  | { kind: "relu"; name: string }
  | { kind: "maxpool2"; name: string }
  /**
   * torch.flatten(x, 1). `chw` reproduces PyTorch's NCHW element order (matters for the
   * features the distillation losses compare); `hwc` is a free reshape, used where the
   * order cannot matter (an MLP's input: a fixed permutation of pixels).
   */
  | { kind: "flatten"; name: string; order: "chw" | "hwc" }
  | { kind: "dense"; name: string; units: number }
  | { kind: "dropout"; name: string; rate: number };

export type ParamSpec = { name: string; shape: number[]; fanIn: number };

export type LayerInfo = {
  name: string;
  type: string;
  /** output shape without the batch dimension */
  outputShape: number[];
  params: ParamSpec[];
  paramCount: number;
};

/** Shape inference + parameter list; throws a readable error when the input does not fit. */
export function inferLayers(model: string, specs: LayerSpec[], inputShape: number[]): LayerInfo[] {
  let shape = [...inputShape];
  const out: LayerInfo[] = [];
  for (const s of specs) {
    let params: ParamSpec[] = [];
    let type: string;
    switch (s.kind) {
      case "conv3x3": {
        if (shape.length !== 3) throw new Error(`${model}: ${s.name} (Conv2d) needs an H×W×C input, got [${shape}]`);
        const [h, w, c] = shape as Shape3;
        params = [
          { name: `${s.name}.weight`, shape: [3, 3, c, s.filters], fanIn: 9 * c },
          { name: `${s.name}.bias`, shape: [s.filters], fanIn: 9 * c },
        ];
        shape = [h, w, s.filters];
        type = `Conv2d(${c}, ${s.filters}, 3, pad 1)`;
        break;
      }
      case "relu":
        type = "ReLU";
        break;
      case "dropout":
        type = `Dropout(${s.rate})`;
        break;
      case "maxpool2": {
        if (shape.length !== 3) throw new Error(`${model}: ${s.name} (MaxPool2d) needs an H×W×C input, got [${shape}]`);
        const [h, w, c] = shape as Shape3;
        if (h < 2 || w < 2) throw new Error(`${model}: input ${inputShape.join("×")} is too small — ${s.name} (MaxPool2d 2×2) would get ${h}×${w}`);
        shape = [Math.floor(h / 2), Math.floor(w / 2), c];
        type = "MaxPool2d(2, 2)";
        break;
      }
      case "flatten":
        shape = [shape.reduce((a, b) => a * b, 1)];
        type = "Flatten";
        break;
      case "dense": {
        if (shape.length !== 1) throw new Error(`${model}: ${s.name} (Linear) needs a flat input, got [${shape}]`);
        const inF = shape[0]!;
        params = [
          { name: `${s.name}.weight`, shape: [inF, s.units], fanIn: inF },
          { name: `${s.name}.bias`, shape: [s.units], fanIn: inF },
        ];
        shape = [s.units];
        type = `Linear(${inF}, ${s.units})`;
        break;
      }
    }
    const paramCount = params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    out.push({ name: s.name, type, outputShape: [...shape], params, paramCount });
  }
  return out;
}

export type ForwardTap = {
  /** output of the named layer (NHWC), e.g. the last pool for `featureMap` */
  featureMapLayer?: string;
  /** output of the named flatten layer, e.g. for cosine-embedding distillation */
  featuresLayer?: string;
};

export type ForwardOptions = {
  training?: boolean;
  /** dropout seed; the trainer derives one per step so resumed runs draw the same masks */
  seed?: number;
  /** use the hand-written conv gradient (fast on wasm/cpu; native backends use tf's) */
  fastConv?: boolean;
  /**
   * this input is rows [offset, offset + N) of a batch of `total` rows (data-parallel
   * shards): dropout draws the whole batch's mask and keeps these rows, so N threads
   * drop exactly what one thread would
   */
  rows?: { offset: number; total: number };
};

/**
 * tf.dropout's arithmetic (multiplier = ⌊u + keep⌋ / keep) over a mask drawn for the whole
 * batch: a seeded draw fills values in row-major order, so a shard's rows come out as they
 * would in the full batch's mask.
 */
export function shardDropout(h: tf.Tensor, rate: number, seed: number, rows: { offset: number; total: number }): tf.Tensor {
  const keep = 1 - rate;
  const n = h.shape[0]!;
  const rest = h.shape.slice(1);
  const u = tf.randomUniform([rows.total, ...rest], 0, 1, "float32", seed);
  const mine = tf.slice(u, [rows.offset, ...rest.map(() => 0)], [n, ...rest]);
  return tf.mul(h, tf.div(tf.floor(tf.add(mine, keep)), keep));
}

/** Runs the layer list. Adjacent conv+relu and dense+relu are fused (one op, fused grads). */
export function runLayers(
  specs: LayerSpec[],
  weights: Map<string, tf.Variable>,
  x: tf.Tensor,
  opts: ForwardOptions,
  tap: ForwardTap,
): { logits: tf.Tensor2D; features?: tf.Tensor2D; featureMap?: tf.Tensor4D } {
  let h: tf.Tensor = x;
  let features: tf.Tensor2D | undefined;
  let featureMap: tf.Tensor4D | undefined;
  const w = (n: string) => {
    const v = weights.get(n);
    if (!v) throw new Error(`missing weight ${n}`);
    return v;
  };
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    const nextIsRelu = specs[i + 1]?.kind === "relu";
    switch (s.kind) {
      case "conv3x3": {
        const W = w(`${s.name}.weight`) as unknown as tf.Tensor4D;
        const b = w(`${s.name}.bias`) as unknown as tf.Tensor1D;
        if (nextIsRelu && opts.fastConv) h = conv3x3ReluFast(h as tf.Tensor4D, W, b, i > 0);
        else h = tf.fused.conv2d({ x: h as tf.Tensor4D, filter: W, strides: 1, pad: "same", bias: b, activation: nextIsRelu ? "relu" : "linear" });
        if (nextIsRelu) i++;
        break;
      }
      case "dense": {
        const W = w(`${s.name}.weight`) as unknown as tf.Tensor2D;
        const b = w(`${s.name}.bias`);
        h = tf.fused.matMul({ a: h, b: W, bias: b, activation: nextIsRelu ? "relu" : "linear" });
        if (nextIsRelu) i++;
        break;
      }
      case "relu":
        h = tf.relu(h);
        break;
      case "maxpool2":
        h = tf.maxPool(h as tf.Tensor4D, 2, 2, "valid");
        break;
      case "flatten":
        if (s.order === "chw" && h.shape.length === 4) h = tf.transpose(h, [0, 3, 1, 2]);
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case "dropout":
        if (opts.training && s.rate > 0) h = opts.rows ? shardDropout(h, s.rate, opts.seed ?? 0, opts.rows) : tf.dropout(h, s.rate, undefined, opts.seed ?? 0);
        break;
    }
    const name = nextIsRelu && (s.kind === "conv3x3" || s.kind === "dense") ? specs[i]!.name : s.name;
    if (tap.featureMapLayer === name || tap.featureMapLayer === s.name) featureMap = h as tf.Tensor4D;
    if (tap.featuresLayer === name || tap.featuresLayer === s.name) features = h as tf.Tensor2D;
  }
  return { logits: h as tf.Tensor2D, features, featureMap };
}
