/** Keras-style model tables for `heron models` and run pages. */
import type { LayerInfo } from "./layers";
import { describeModel, MODEL_NAMES } from "./reference-models";

const fmt = (n: number) => n.toLocaleString("en-US");
const pad = (s: string, n: number) => (s.length >= n ? s + " " : s + " ".repeat(n - s.length));

export function formatModelSummary(desc: { name: string; inputShape: number[]; layers: LayerInfo[]; paramCount: number }): string {
  const rows = desc.layers.map((l) => [`${l.name} (${l.type})`, `(None, ${l.outputShape.join(", ")})`, fmt(l.paramCount)] as const);
  const w0 = Math.max(28, ...rows.map((r) => r[0].length + 2));
  const w1 = Math.max(22, ...rows.map((r) => r[1].length + 2));
  const width = w0 + w1 + 12;
  const lines = [
    `Model: "${desc.name}"  input ${desc.inputShape.join("×")} (H×W×C)`,
    "_".repeat(width),
    pad(" Layer (type)", w0) + pad("Output Shape", w1) + "Param #",
    "=".repeat(width),
    ...rows.map((r) => pad(" " + r[0], w0) + pad(r[1], w1) + r[2]),
    "=".repeat(width),
    `Total params: ${fmt(desc.paramCount)}`,
    `Trainable params: ${fmt(desc.paramCount)}`,
    "Non-trainable params: 0",
    "_".repeat(width),
  ];
  return lines.join("\n");
}

/**
 * All seed models' tables (`npx heron models [--input 32,32,3]`). Without an input shape each
 * model uses its own default (MNIST 28×28×1 for mlp-mnist, 32×32×3 for the rest).
 */
export function printModels(inputShape?: number[]): string {
  return MODEL_NAMES.map((name) => formatModelSummary(describeModel(name, inputShape))).join("\n\n");
}
