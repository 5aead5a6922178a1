import { z } from "zod";

import { compileGlob, globListSchema, matchGlob } from "../glob";
import { IdSchema } from "./common";
import { OutputArtifactSchema, SourceArtifactSchema, SourceStageSchema } from "./source-artifact";
import { DatasetNameSchema, ModelNameSchema } from "./train-spec";
import { trainingFields } from "./training-fields";

/**
 * `kind: "finetune"` — start from a checkpoint, freeze the base, open only what the spec
 * says: LoRA adapters on dense layers (seed 002), a new head, or everything.
 *   task "text":  the character-level transformer LM; prompt-masked SFT on instruction →
 *                 answer pairs exactly like seed 002's `process_func`.
 *   task "image": a seed model (e.g. pre-trained on MNIST digits 0–4), fine-tuned on other
 *                 classes or another dataset; accuracy logged before and after.
 * Browser-safe (the dashboard's form validates with it).
 */
const int = (name: string) => z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);
const pos = (name: string, max: number) => int(name).min(1, `${name} must be ≥ 1`).max(max, `${name} must be ≤ ${max}`);
const lrSchema = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .positive(`${name} must be > 0`)
    .max(10, `${name} must be ≤ 10`);
const classesSchema = (name: string) =>
  z
    .array(int(`${name}[]`).min(0, `${name} are class indices ≥ 0`).max(9, `${name} are class indices ≤ 9`))
    .min(1, `${name} must not be empty`)
    .max(10)
    .optional();

export const SftPairSchema = z
  .object({
    instruction: z.string({ error: "instruction must be a string" }).max(2000, "instruction is longer than 2000 characters").default(""),
    input: z.string({ error: "input must be a string" }).min(1, "input (the question) must not be empty").max(2000, "input is longer than 2000 characters"),
    output: z.string({ error: "output must be a string" }).min(1, "output (the answer) must not be empty").max(2000, "output is longer than 2000 characters"),
  })
  .strict();
export type SftPair = z.infer<typeof SftPairSchema>;

export const SftDataSchema = z.union(
  [
    /** question/answer pairs generated from the same world as the pre-training corpus */
    z.object({ builtin: z.literal("almanac") }).strict(),
    z.object({ pairs: z.array(SftPairSchema).min(1, "data.pairs must hold at least one pair").max(20_000, "data.pairs holds at most 20000 pairs") }).strict(),
    /** a JSONL file on the runner host, one {"instruction","input","output"} per line (seed 002's format) */
    z.object({ path: z.string().min(1, "data.path must not be empty") }).strict(),
  ],
  { error: () => 'data must be {builtin:"almanac"}, {pairs:[{instruction?, input, output}]} or {path:"file.jsonl"}' },
);
export type SftData = z.infer<typeof SftDataSchema>;

export const TextModelConfigSchema = z
  .object({
    dModel: pos("model.dModel", 1024).default(64),
    layers: pos("model.layers", 24).default(2),
    heads: pos("model.heads", 32).default(4),
    /** longest sequence the model sees (positions) */
    context: pos("model.context", 2048).default(96),
    /**
     * "swiglu" (default): Qwen/LLaMA's gated MLP, down_proj(silu(gate_proj(x)) · up_proj(x)), so
     * seed 002's target list (q,k,v,o,gate,up,down _proj) applies as written. "relu": the
     * earlier up_proj → ReLU → down_proj MLP, kept so models trained before the gated MLP load.
     */
    mlp: z.enum(["swiglu", "relu"], { error: () => "model.mlp must be swiglu or relu" }).default("swiglu"),
  })
  .strict()
  .refine((m) => m.dModel % m.heads === 0, { message: "model.dModel must be a multiple of model.heads", path: ["dModel"] });
export type TextModelConfig = z.infer<typeof TextModelConfigSchema>;
/** a config as code writes it: `mlp` absent means the default, SwiGLU */
export type TextModelShape = Omit<TextModelConfig, "mlp"> & { mlp?: TextModelConfig["mlp"] };

/**
 * A text model config stored before `mlp` existed (a checkpoint's extra.textConfig, an older
 * job's spec) describes the ReLU MLP; a new one without it means the default, SwiGLU.
 */
export function storedTextConfig(raw: unknown): TextModelConfig {
  const o = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  return TextModelConfigSchema.parse({ ...o, mlp: o.mlp ?? "relu" });
}

/**
 * The MLP's hidden width: 4·d for the ReLU MLP; for SwiGLU LLaMA's 8d/3 (rounded up to a
 * multiple of 8), which keeps the three projections at the parameter count of the two.
 */
export function textFfnDim(c: Pick<TextModelShape, "dModel" | "mlp">): number {
  return c.mlp === "relu" ? 4 * c.dModel : Math.ceil((8 * c.dModel) / 3 / 8) * 8;
}

export const TextPretrainSchema = z
  .object({
    steps: pos("base.pretrain.steps", 1_000_000),
    lr: lrSchema("base.pretrain.lr").default(0.003),
    batchSize: pos("base.pretrain.batchSize", 4096).default(16),
    model: TextModelConfigSchema.default({ dModel: 64, layers: 2, heads: 4, context: 96, mlp: "swiglu" }),
  })
  .strict();

export const ImagePretrainSchema = z
  .object({
    model: ModelNameSchema,
    dataset: DatasetNameSchema,
    classes: classesSchema("base.pretrain.classes"),
    epochs: pos("base.pretrain.epochs", 1000),
    lr: lrSchema("base.pretrain.lr").default(0.001),
    batchSize: pos("base.pretrain.batchSize", 65_536).default(64),
    maxTrainSamples: pos("base.pretrain.maxTrainSamples", 10_000_000).optional(),
  })
  .strict();

export const LoraSpecSchema = z
  .object({
    r: pos("lora.r", 4096).default(8),
    alpha: z.number({ error: "lora.alpha must be a number" }).positive("lora.alpha must be > 0").max(4096).default(16),
    dropout: z.number({ error: "lora.dropout must be a number" }).min(0, "lora.dropout must be in [0, 1)").lt(1, "lora.dropout must be in [0, 1)").default(0),
    /** PEFT target_modules: layer names, dotted suffixes ("q_proj") or globs ("classifier.*", "layers.**") */
    targets: globListSchema("lora.targets").min(1, "lora.targets must name at least one layer"),
  })
  .strict();
export type LoraSpec = z.infer<typeof LoraSpecSchema>;

export const FinetuneSpecSchema = z
  .object({
    kind: z.literal("finetune"),
    task: z.enum(["text", "image"], { error: () => "task must be text or image" }),
    /** a finished run's checkpoint ({runId}; jobId filled in by the server), a model artifact, or a pre-training stage in this job */
    base: z.union(
      [
        z.object({ runId: IdSchema, jobId: IdSchema.optional() }).strict(),
        SourceArtifactSchema,
        SourceStageSchema,
        z.object({ pretrain: z.unknown() }).strict(),
      ],
      {
        error: () =>
          'base must be {runId} (a finished run\'s checkpoint), {artifact: "name:alias"} (a model artifact), {fromStage} (an earlier stage of the pipeline) or {pretrain:{…}} (trained first in this job)',
      },
    ),
    method: z.enum(["lora", "head", "full"], { error: () => "method must be lora, head or full" }),
    lora: LoraSpecSchema.optional(),
    // text
    data: SftDataSchema.optional(),
    /** seed 002's MAX_LENGTH: prompt + answer + end token, truncated */
    maxLength: pos("maxLength", 4096).default(96),
    /** text samples (question / model answer / ground truth) logged before training and after each epoch */
    samples: int("samples").min(0, "samples must be ≥ 0").max(50, "samples must be ≤ 50").default(3),
    // image
    dataset: DatasetNameSchema.optional(),
    classes: classesSchema("classes"),
    cifarPath: z.string().min(1).optional(),
    // both
    epochs: pos("epochs", 10_000),
    batchSize: pos("batchSize", 65_536),
    lr: lrSchema("lr"),
    gradAccumulation: pos("gradAccumulation", 1024).default(1),
    /** the global gradient norm is clipped to this (transformers' Trainer: max_grad_norm 1.0); 0 turns clipping off */
    clipGradNorm: z.number({ error: "clipGradNorm must be a number" }).min(0, "clipGradNorm must be ≥ 0 (0: no clipping)").default(1),
    /**
     * learning rate over optimizer steps, as transformers' Trainer (the seed's): linear warmup
     * from 0 over warmupSteps (or warmupRatio × total steps; warmupSteps wins), then linear
     * decay to 0 at the last step ("cosine": cosine decay, "constant": none)
     */
    schedule: z.enum(["linear", "cosine", "constant"], { error: () => "schedule must be linear, cosine or constant" }).default("linear"),
    warmupSteps: int("warmupSteps").min(0, "warmupSteps must be ≥ 0").max(10_000_000, "warmupSteps must be ≤ 10000000").optional(),
    warmupRatio: z.number({ error: "warmupRatio must be a number" }).min(0, "warmupRatio must be in [0, 1]").max(1, "warmupRatio must be in [0, 1]").default(0),
    logEvery: pos("logEvery", 1_000_000).default(10),
    /** checkpoint every N optimizer steps (and at the end) */
    saveEvery: pos("saveEvery", 1_000_000).optional(),
    ...trainingFields,
    maxTrainSamples: pos("maxTrainSamples", 10_000_000).optional(),
    maxTestSamples: pos("maxTestSamples", 10_000_000).optional(),
    seed: int("seed")
      .min(0, "seed must be ≥ 0")
      .max(2 ** 32 - 1, "seed must be < 2^32")
      .optional(),
    /** the model artifact the fine-tuned model is logged as when the job succeeds (default `<run name>-model`) */
    artifact: OutputArtifactSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (s.method === "lora" && !s.lora) issue(["lora"], "lora {r, alpha, dropout, targets} is required when method is lora");
    // fine-tune checkpoints hold the whole model (the final one is the merged model): nothing to leave out
    if (s.checkpoint?.excludeFrozen === true)
      issue(["checkpoint", "excludeFrozen"], "fine-tune jobs store every tensor in their checkpoints; leave checkpoint.excludeFrozen out");
    if (s.method !== "lora" && s.lora) issue(["lora"], `lora is only used when method is lora (method is ${s.method})`);
    if ("pretrain" in s.base) {
      const schema = s.task === "text" ? TextPretrainSchema : ImagePretrainSchema;
      const r = schema.safeParse(s.base.pretrain);
      if (!r.success) for (const i of r.error.issues) issue(["base", "pretrain", ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))], i.message);
    }
    if (s.task === "text") {
      if (!s.data) issue(["data"], 'data is required for task text ({builtin:"almanac"}, {pairs:[…]} or {path})');
      if (s.dataset || s.classes) issue(["dataset"], "dataset/classes apply to task image only");
    } else {
      if (!s.dataset) issue(["dataset"], "dataset is required for task image");
      if (s.data) issue(["data"], "data applies to task text only (use dataset/classes)");
      if (s.lora && s.lora.dropout > 0) issue(["lora", "dropout"], "lora.dropout must be 0 for image models (their adapters are applied as a weight delta)");
      if (s.dataset === "cifar10" && !s.cifarPath) issue(["cifarPath"], "cifarPath is required for dataset cifar10");
    }
  });
export type FinetuneSpec = z.infer<typeof FinetuneSpecSchema>;
export type FinetuneSpecInput = z.input<typeof FinetuneSpecSchema>;
export type TextPretrain = z.infer<typeof TextPretrainSchema>;
export type ImagePretrain = z.infer<typeof ImagePretrainSchema>;

/**
 * The character-level tokenizer's vocabulary: 4 special tokens (pad, system, user,
 * assistant/end markers share ids below), then printable ASCII. Kept here (pure) because
 * the LM head's width — and so LoRA checks at submit — depends on it.
 */
export const TEXT_SPECIAL_TOKENS = ["<pad>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<unk>"] as const;
export const TEXT_CHARSET = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("") + "\n";
export const TEXT_VOCAB_SIZE = TEXT_SPECIAL_TOKENS.length + TEXT_CHARSET.length;

/** a dense (Linear) layer a LoRA adapter can sit on */
export type DenseLayerRef = { name: string; inFeatures: number; outFeatures: number };

/**
 * Dense layers of each fine-tunable model, by the names the weights carry — pure, so the
 * server can check LoRA targets and `r` at submit. Tests compare it with the real models.
 */
export function denseLayersOf(
  model: { image: string; input: [number, number, number]; classes?: number } | { text: TextModelShape; vocab: number },
): DenseLayerRef[] {
  if ("text" in model) {
    const { dModel: d, layers } = model.text;
    const f = textFfnDim(model.text);
    const out: DenseLayerRef[] = [];
    for (let i = 0; i < layers; i++) {
      for (const p of ["q_proj", "k_proj", "v_proj", "o_proj"]) out.push({ name: `layers.${i}.attn.${p}`, inFeatures: d, outFeatures: d });
      if (model.text.mlp !== "relu") out.push({ name: `layers.${i}.mlp.gate_proj`, inFeatures: d, outFeatures: f });
      out.push({ name: `layers.${i}.mlp.up_proj`, inFeatures: d, outFeatures: f }, { name: `layers.${i}.mlp.down_proj`, inFeatures: f, outFeatures: d });
    }
    out.push({ name: "lm_head", inFeatures: d, outFeatures: model.vocab });
    return out;
  }
  const [h, w, c] = model.input;
  const k = model.classes ?? 10;
  const q = (x: number) => Math.floor(Math.floor(x / 2) / 2);
  switch (model.image) {
    case "mlp-mnist":
      return [
        { name: "layer1", inFeatures: h * w * c, outFeatures: 128 },
        { name: "layer2", inFeatures: 128, outFeatures: k },
      ];
    case "mlp-cifar":
      return [
        { name: "fc1", inFeatures: h * w * c, outFeatures: 128 },
        { name: "fc2", inFeatures: 128, outFeatures: k },
      ];
    case "deep-cnn":
      return [
        { name: "classifier.0", inFeatures: 32 * q(h) * q(w), outFeatures: 512 },
        { name: "classifier.3", inFeatures: 512, outFeatures: k },
      ];
    case "light-cnn":
      return [
        { name: "classifier.0", inFeatures: 16 * q(h) * q(w), outFeatures: 256 },
        { name: "classifier.3", inFeatures: 256, outFeatures: k },
      ];
    default:
      throw new Error(`unknown model "${model.image}"`);
  }
}

/**
 * PEFT-style target matching: a pattern matches a layer when it matches the full name or a
 * dotted suffix of it (so "q_proj" hits every attention block). Patterns are dotted globs
 * (see glob.ts): `*` inside one segment ("*_proj", "classifier.*"), `**` across segments
 * ("layers.**").
 */
export function matchesLoraTarget(layer: string, pattern: string): boolean {
  return matchGlob(compileGlob(pattern, { suffix: true }), layer);
}

/**
 * The dense layers the adapters go on; throws the reason a spec is unusable (a pattern
 * matching nothing, r larger than a layer) — used at submit and again by the job.
 */
export function selectLoraTargets(layers: DenseLayerRef[], o: { r: number; targets: string[] }): DenseLayerRef[] {
  const chosen = new Map<string, DenseLayerRef>();
  for (const p of o.targets) {
    const hits = layers.filter((l) => matchesLoraTarget(l.name, p));
    if (!hits.length) throw new Error(`lora.targets: "${p}" matches no dense layer (layers: ${layers.map((l) => l.name).join(", ")})`);
    for (const h of hits) chosen.set(h.name, h);
  }
  for (const l of chosen.values()) {
    const width = Math.min(l.inFeatures, l.outFeatures);
    if (o.r > width) throw new Error(`lora.r: r=${o.r} is larger than layer ${l.name} (${l.inFeatures}→${l.outFeatures}); r must be ≤ ${width}`);
  }
  return [...chosen.values()];
}
