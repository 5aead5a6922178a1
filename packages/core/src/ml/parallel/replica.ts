/**
 * What a replica computes for its rows of a micro-batch, the same code on the main thread
 * and in the workers. Every loss is a mean over the rows, so a shard's loss, parts and
 * gradients are scaled by its share of the rows and the shards SUM to the micro-batch's.
 *   classify  softmax cross-entropy (train jobs)
 *   distill   a seed 003 method: the teacher's forward pass (no tape) on the same rows,
 *             then the student's (and regressor's) loss
 *   finetune-image  cross-entropy of an image fine-tune: the base model with its LoRA
 *             adapters applied as weight deltas (adapted-forward.ts), or the bare model
 *             (full, head, and the base's pre-training)
 *   finetune-text   the masked LM loss of the text model, with its adapters (text-shard.ts)
 *   vlm       a mini VLM stage: the encoder's cross-entropy, or the masked caption/answer
 *             loss of the language stages (vlm-shard.ts)
 */
import * as tf from "@tensorflow/tfjs";

import type { DistillMethod, DistillSpec } from "../../schemas/distill-spec";
import type { TextModelConfig } from "../../schemas/finetune-spec";
import { distillLoss, teacherOutputs } from "../distill/distill-loss";
import { createRegressor, type Regressor } from "../distill/regressor";
import { finetuneImageLoss } from "../finetune/adapted-forward";
import type { LoraAdapter } from "../lora/lora";
import { buildModel, type ReferenceModel } from "../models/reference-models";
import { CharTransformer } from "../text/char-transformer";
import { MiniVlm } from "../vlm/model";
import type { PoolModel } from "./layout";
import { shardGrads, type ShardInput } from "./shard-step";
import { textShard } from "./text-shard";
import { vlmShard, type VlmShardTask } from "./vlm-shard";

export type ShardTask =
  | { kind: "classify" }
  | {
      kind: "distill";
      method: DistillMethod;
      loss: Pick<DistillSpec, "T" | "softWeight" | "ceWeight" | "hiddenWeight">;
      teacher: PoolModel;
      /** the student's flattened feature width (cosine pools the teacher's to it) */
      studentFeatures: number;
    }
  | {
      kind: "finetune-image";
      /** the adapters' shapes (their values arrive with the weights, as `<layer>.lora_A/B`) */
      adapters: AdapterShape[];
    }
  | { kind: "finetune-text"; config: TextModelConfig; adapters: AdapterShape[] }
  | VlmShardTask;

export type AdapterShape = { layer: string; inFeatures: number; outFeatures: number; r: number; scale: number; dropout: number };

export function adapterShapes(adapters: Map<string, LoraAdapter> | undefined): AdapterShape[] {
  return [...(adapters?.values() ?? [])].map((ad) => ({
    layer: ad.layer,
    inFeatures: ad.A.shape[0],
    outFeatures: ad.B.shape[1]!,
    r: ad.A.shape[1]!,
    scale: ad.scale,
    dropout: ad.dropout,
  }));
}

/** the loss parts a task reports beside its loss, in a fixed order (shared-memory slots) */
export function taskParts(task: ShardTask): string[] {
  if (task.kind !== "distill") return [];
  if (task.method === "ce") return ["loss/ce"];
  return task.method === "kd" ? ["loss/ce", "loss/soft"] : ["loss/ce", "loss/hidden"];
}

export type ReplicaModels = {
  /** the image model (every task but finetune-text and vlm) */
  model?: ReferenceModel;
  /** the mini VLM (vlm) */
  vlm?: MiniVlm;
  /** the text model (finetune-text) */
  text?: CharTransformer;
  /** every parameter the step sees, by name (the model's, plus a regressor's) */
  params: Map<string, tf.Variable>;
  teacher?: ReferenceModel;
  regressor?: Regressor | null;
  /** a LoRA fine-tune's adapters (their A/B are also in `params`) */
  adapters?: Map<string, LoraAdapter>;
};

export type ShardOut = { value: tf.Scalar; grads: Map<string, tf.Tensor>; parts: Record<string, number> };

export function computeShard(task: ShardTask, m: ReplicaModels, trainable: Map<string, tf.Variable>, s: ShardInput): ShardOut {
  const varList = [...trainable.values()];
  const byName = (g: tf.NamedTensorMap) => {
    const out = new Map<string, tf.Tensor>();
    for (const [name, v] of trainable) out.set(name, g[v.name]!);
    return out;
  };
  // the last micro-batch of an epoch may have fewer rows than there are replicas: an empty
  // shard adds nothing (its tensors would have 0 rows, and the mean over them divides by 0)
  if (s.y.length === 0) return { value: tf.scalar(0), grads: new Map([...trainable].map(([name, v]) => [name, tf.zerosLike(v)])), parts: {} };
  if (task.kind === "finetune-text") {
    const r = textShard(task.config, m.text!, m.adapters, varList, s);
    return { value: r.value, grads: byName(r.grads), parts: {} };
  }
  if (task.kind === "vlm") {
    const r = vlmShard(task, m.vlm!, varList, s);
    return { value: r.value, grads: byName(r.grads), parts: {} };
  }
  const model = m.model!;
  if (task.kind === "classify") {
    const r = shardGrads(model, varList, s);
    return { value: r.value, grads: byName(r.grads), parts: {} };
  }
  const n = s.y.length;
  const share = n === s.total ? s.weight : (s.weight * n) / s.total;
  const rows = n === s.total ? undefined : { offset: s.offset, total: s.total };
  const [h, w, c] = model.inputShape;
  if (task.kind === "finetune-image") {
    const r = tf.tidy(() => {
      const xt = tf.tensor4d(s.x, [n, h, w, c]);
      const yt = tf.tensor1d(s.y, "int32");
      return tf.variableGrads(() => tf.mul(finetuneImageLoss(model, m.adapters, xt, yt, s.seed, rows), share) as tf.Scalar, varList);
    });
    return { value: r.value, grads: byName(r.grads), parts: {} };
  }
  const kept: Record<string, tf.Scalar> = {};
  const r = tf.tidy(() => {
    const xt = tf.tensor4d(s.x, [n, h, w, c]);
    const yt = tf.tensor1d(s.y, "int32");
    const t = teacherOutputs(m.teacher!, xt, task.method, task.studentFeatures);
    return tf.variableGrads(() => {
      const out = distillLoss(task.method, task.loss, model, m.regressor ?? null, xt, yt, t, s.seed, rows);
      for (const [k, v] of Object.entries(out.parts ?? {})) kept[k] = tf.keep(v);
      return tf.mul(out.loss, share) as tf.Scalar;
    }, varList);
  });
  const parts: Record<string, number> = {};
  for (const [k, v] of Object.entries(kept)) {
    parts[k] = v.dataSync()[0]! * share;
    v.dispose();
  }
  return { value: r.value, grads: byName(r.grads), parts };
}

/** adapters of the given shapes, zero until the weights arrive (as `<layer>.lora_A/B`, added to `params`) */
function replicaAdapters(shapes: AdapterShape[], params: Map<string, tf.Variable>): Map<string, LoraAdapter> {
  const adapters = new Map<string, LoraAdapter>();
  for (const a of shapes) {
    const ad = {
      layer: a.layer,
      A: tf.variable(tf.zeros([a.inFeatures, a.r])),
      B: tf.variable(tf.zeros([a.r, a.outFeatures])),
      scale: a.scale,
      dropout: a.dropout,
    };
    adapters.set(a.layer, ad);
    params.set(`${a.layer}.lora_A`, ad.A).set(`${a.layer}.lora_B`, ad.B);
  }
  return adapters;
}

/** a worker's own copies of the models a task needs (weights arrive through shared memory; a teacher's once) */
export function buildReplica(task: ShardTask, model: PoolModel | undefined, teacherWeights?: Record<string, Float32Array>): ReplicaModels {
  if (task.kind === "finetune-text") {
    const text = new CharTransformer(task.config);
    const params = new Map(text.params);
    return { text, params, adapters: replicaAdapters(task.adapters, params) };
  }
  if (task.kind === "vlm") {
    // the seed only fills the initial values: every weight arrives through shared memory
    const vlm = new MiniVlm(task.config, task.parts, 0);
    return { vlm, params: new Map(vlm.params) };
  }
  if (!model) throw new Error(`a ${task.kind} replica needs the image model`);
  const student = buildModel(model.name, model.inputShape, model.numClasses);
  const params = new Map(student.params);
  if (task.kind === "classify") return { model: student, params };
  if (task.kind === "finetune-image") return { model: student, params, adapters: replicaAdapters(task.adapters, params) };
  const teacher = buildModel(task.teacher.name, task.teacher.inputShape, task.teacher.numClasses);
  if (!teacherWeights) throw new Error("a distillation replica needs the teacher's weights");
  teacher.setWeights(teacherWeights);
  const regressor = task.method === "regressor" ? createRegressor(student, teacher, model.inputShape, 0) : null;
  if (regressor) for (const [n, v] of regressor.params) params.set(n, v);
  return { model: student, params, teacher, regressor };
}
