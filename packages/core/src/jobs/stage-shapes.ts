/**
 * The tensors a training stage's model has and its checkpoints hold — names and shapes,
 * computed from the spec alone (no tfjs, no tensor), so the server can refuse at submit a
 * pipeline whose stages cannot load each other's checkpoints (pipeline-check.ts). The jobs
 * build the same names and shapes with tensors (reference-models.ts, char-transformer.ts,
 * vlm/model.ts, distill/regressor.ts); stage-shapes.test.ts compares the two. Browser-safe.
 *
 * A dimension that depends on data the server does not load is a string naming it: the VLM's
 * word vocabulary and context length come from the dataset's question templates
 * (`vocab(fashion-mnist)`), a regressor's output width from a teacher known only to the job.
 * Two such dimensions are equal exactly when they name the same thing.
 */
import { DATASET_SHAPES } from "../schemas/distill-spec";
import { denseLayersOf, type FinetuneSpec, ImagePretrainSchema, TEXT_VOCAB_SIZE, type TextModelShape, TextPretrainSchema } from "../schemas/finetune-spec";
import type { VlmStageSpec } from "../schemas/vlm-spec";

export type Dim = number | string;
/** tensor name → shape, in the model's order */
export type TensorShapes = Map<string, Dim[]>;

/** what a stage's checkpoint holds, as a teacher or base reads it */
export type StageModel =
  | { kind: "image"; model: string; input: [number, number, number]; classes: number }
  | { kind: "text"; config: TextModelShape }
  | { kind: "vlm"; spec: VlmShapeFields };

export type VlmShapeFields = Pick<VlmStageSpec, "stage" | "dataset" | "encoder" | "lm" | "patchPool">;

/** image datasets have 10 classes; only the input shape differs */
const CLASSES = 10;

type Layer = ["conv", string, number] | ["pool"] | ["dense", string, number | "classes"];
const cnn = (convs: (string | number)[][], dense: [string, number | "classes"][]): Layer[] => [
  ...convs.map((c): Layer => (c[0] === "pool" ? ["pool"] : ["conv", String(c[0]), Number(c[1])])),
  ...dense.map(([n, u]): Layer => ["dense", n, u]),
];
/** the reference models (models/reference-models.ts) as conv / pool / dense steps, flatten implied */
const IMAGE_MODELS: Record<string, Layer[]> = {
  "mlp-mnist": cnn(
    [],
    [
      ["layer1", 128],
      ["layer2", "classes"],
    ],
  ),
  "mlp-cifar": cnn(
    [],
    [
      ["fc1", 128],
      ["fc2", "classes"],
    ],
  ),
  "deep-cnn": cnn(
    [["features.0", 128], ["features.2", 64], ["pool"], ["features.5", 64], ["features.7", 32], ["pool"]],
    [
      ["classifier.0", 512],
      ["classifier.3", "classes"],
    ],
  ),
  "light-cnn": cnn(
    [["features.0", 16], ["pool"], ["features.3", 16], ["pool"]],
    [
      ["classifier.0", 256],
      ["classifier.3", "classes"],
    ],
  ),
};

/** conv (3×3, same padding) / 2×2 max-pool / flatten / dense shapes; throws when the input is too small */
function layerShapes(model: string, layers: Layer[], input: [number, number, number], classes: number): TensorShapes {
  const out: TensorShapes = new Map();
  let [h, w, c] = input;
  let flat: number | null = null;
  for (const l of layers) {
    if (l[0] === "conv") {
      out.set(`${l[1]}.weight`, [3, 3, c, l[2]]).set(`${l[1]}.bias`, [l[2]]);
      c = l[2];
    } else if (l[0] === "pool") {
      if (h < 2 || w < 2) throw new Error(`${model}: input ${input.join("×")} is too small for its 2×2 max-pools`);
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    } else {
      const units = l[2] === "classes" ? classes : l[2];
      out.set(`${l[1]}.weight`, [flat ?? h * w * c, units]).set(`${l[1]}.bias`, [units]);
      flat = units;
    }
  }
  return out;
}

export function imageModelShapes(model: string, input: [number, number, number], classes = CLASSES): TensorShapes {
  const layers = IMAGE_MODELS[model];
  if (!layers) throw new Error(`unknown model "${model}"`);
  return layerShapes(model, layers, input, classes);
}

/** the fine-tuning char transformer (text/char-transformer.ts) */
export function textModelShapes(config: TextModelShape): TensorShapes {
  const d = config.dModel;
  const out: TensorShapes = new Map([
    ["tok_emb", [TEXT_VOCAB_SIZE, d]],
    ["pos_emb", [config.context, d]],
  ]);
  for (const l of denseLayersOf({ text: config, vocab: TEXT_VOCAB_SIZE }))
    out.set(`${l.name}.weight`, [l.inFeatures, l.outFeatures]).set(`${l.name}.bias`, [l.outFeatures]);
  for (let i = 0; i < config.layers; i++) for (const ln of ["ln1", "ln2"]) out.set(`layers.${i}.${ln}.weight`, [d]).set(`layers.${i}.${ln}.bias`, [d]);
  return out.set("ln_f.weight", [d]).set("ln_f.bias", [d]);
}

/** the mini VLM (vlm/model.ts, vlm/lm.ts): the encoder alone for the encoder stage, else everything */
export function vlmShapes(spec: VlmShapeFields): TensorShapes {
  const input = DATASET_SHAPES[spec.dataset] ?? [28, 28, 1];
  const ch = spec.encoder.channels;
  const layers: Layer[] = [...ch.flatMap((f, i): Layer[] => [["conv", `encoder.conv${i + 1}`, f], ["pool"]]), ["dense", "encoder.head", "classes"]];
  const out = layerShapes("vlm encoder", layers, input, CLASSES);
  if (spec.stage === "encoder") return out;
  let [h, w] = input;
  for (let i = 0; i < ch.length; i++) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  const tokens = Math.ceil(h / spec.patchPool) * Math.ceil(w / spec.patchPool);
  const d = spec.lm.dModel;
  const vocab = `vocab(${spec.dataset})`;
  out.set("proj.weight", [ch.at(-1)!, d]).set("proj.bias", [d]);
  out.set("lm.tok_emb", [vocab, d]).set("lm.pos_emb", [`context(${spec.dataset}, ${tokens} image tokens)`, d]);
  const dense = (n: string, i: Dim, o: Dim) => out.set(`${n}.weight`, [i, o]).set(`${n}.bias`, [o]);
  const ln = (n: string) => out.set(`${n}.weight`, [d]).set(`${n}.bias`, [d]);
  for (let i = 0; i < spec.lm.layers; i++) {
    const p = `lm.layers.${i}`;
    ln(`${p}.ln1`);
    for (const q of ["q_proj", "k_proj", "v_proj", "o_proj"]) dense(`${p}.attn.${q}`, d, d);
    ln(`${p}.ln2`);
    dense(`${p}.mlp.up_proj`, d, 4 * d);
    dense(`${p}.mlp.down_proj`, 4 * d, d);
  }
  ln("lm.ln_f");
  dense("lm.head", d, vocab);
  return out;
}

export function stageModelShapes(m: StageModel): TensorShapes {
  return m.kind === "image" ? imageModelShapes(m.model, m.input, m.classes) : m.kind === "text" ? textModelShapes(m.config) : vlmShapes(m.spec);
}

/** how messages name a model: `light-cnn on 28×28×1`, `the text model (2 layers, d 64)`, `the vlm (fashion-mnist)` */
export function describeStageModel(m: StageModel): string {
  if (m.kind === "image") return `${m.model} on ${m.input.join("×")}`;
  if (m.kind === "text") return `the text model (${m.config.layers} layers, dModel ${m.config.dModel}, ${m.config.mlp ?? "swiglu"} MLP)`;
  return `the mini VLM${m.spec.stage === "encoder" ? "'s encoder" : ""} (${m.spec.dataset})`;
}

export const formatShape = (s: readonly Dim[]) => (s.length ? s.join("×") : "scalar");

/** the image model a fine-tune base `{pretrain}` trains, or the text model's config */
export function pretrainModel(spec: FinetuneSpec): StageModel | null {
  if (!("pretrain" in spec.base)) return null;
  if (spec.task === "text") {
    const r = TextPretrainSchema.safeParse(spec.base.pretrain);
    return r.success ? { kind: "text", config: r.data.model } : null;
  }
  const r = ImagePretrainSchema.safeParse(spec.base.pretrain);
  // the fine-tune rebuilds it on its own dataset's input shape (image-finetune.ts)
  return r.success ? { kind: "image", model: r.data.model, input: DATASET_SHAPES[spec.dataset ?? r.data.dataset] ?? [28, 28, 1], classes: CLASSES } : null;
}

/** LoRA adapters' parameter names (lora/lora.ts), which `freeze` / `train` patterns of a fine-tune may name too */
export function loraParamNames(layers: readonly string[]): string[] {
  return layers.flatMap((l) => [`${l}.lora_A`, `${l}.lora_B`]);
}
