/**
 * The distillation methods' losses (seed 003), shared by the job's own thread and the
 * data-parallel replicas (ml/parallel/): the teacher's outputs outside any gradient tape,
 * then the student's loss for one (micro-)batch or one shard of it.
 */
import * as tf from "@tensorflow/tfjs";

import type { DistillMethod, DistillSpec } from "../../schemas/distill-spec";
import type { LossOut } from "../finetune/step";
import { avgPool1d, cosineEmbeddingLoss, crossEntropy, kdSoftLoss, mseLoss } from "../losses";
import type { ForwardOptions } from "../models/layers";
import type { ReferenceModel } from "../models/reference-models";
import { applyRegressor, type Regressor } from "./regressor";

export type TeacherOut = { logits?: tf.Tensor2D; features?: tf.Tensor2D; featureMap?: tf.Tensor4D };

/** The teacher's outputs for a batch, computed outside any gradient tape (no_grad). */
export function teacherOutputs(teacher: ReferenceModel, x: tf.Tensor4D, method: DistillMethod, studentFeatures: number): TeacherOut {
  return tf.tidy(() => {
    const out = teacher.forward(x, { training: false });
    if (method === "kd") return { logits: out.logits };
    if (method === "cosine") {
      const f = out.features!;
      const k = f.shape[1] / studentFeatures;
      return { features: k > 1 ? avgPool1d(f, k) : f };
    }
    if (method === "regressor") return { featureMap: out.featureMap! };
    return {};
  }) as TeacherOut;
}

/** The method's loss for one micro-batch, given precomputed (frozen) teacher outputs. */
export function distillLoss(
  method: DistillMethod,
  spec: Pick<DistillSpec, "T" | "softWeight" | "ceWeight" | "hiddenWeight">,
  student: ReferenceModel,
  regressor: Regressor | null,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  t: TeacherOut,
  dropoutSeed: number,
  /** this batch is a shard of a larger one (dropout masks: ForwardOptions.rows) */
  rows?: ForwardOptions["rows"],
): LossOut {
  const out = student.forward(x, { training: true, seed: dropoutSeed, rows });
  const ce = crossEntropy(out.logits, y);
  if (method === "ce") return { loss: ce, parts: { "loss/ce": ce } };
  if (method === "kd") {
    const soft = kdSoftLoss(out.logits, t.logits!, spec.T);
    return { loss: tf.add(tf.mul(soft, spec.softWeight), tf.mul(ce, spec.ceWeight)) as tf.Scalar, parts: { "loss/ce": ce, "loss/soft": soft } };
  }
  let hidden: tf.Scalar;
  if (method === "cosine") {
    let s = out.features!;
    const tf_ = t.features!;
    // a student wider than its teacher is pooled instead (seed 003 only needs the other way)
    if (s.shape[1] > tf_.shape[1]) s = avgPool1d(s, s.shape[1] / tf_.shape[1]);
    hidden = cosineEmbeddingLoss(s, tf_);
  } else hidden = mseLoss(applyRegressor(regressor!, out.featureMap!), t.featureMap!);
  return { loss: tf.add(tf.mul(hidden, spec.hiddenWeight), tf.mul(ce, spec.ceWeight)) as tf.Scalar, parts: { "loss/ce": ce, "loss/hidden": hidden } };
}
