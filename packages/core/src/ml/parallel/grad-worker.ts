/**
 * A data-parallel replica (worker_threads): its own tfjs backend instance and a copy of the
 * model. Per command it takes the weights when their version changed, computes the gradients
 * of its rows of the batch and writes them into its slot. It blocks on Atomics.wait between
 * steps — a worker has nothing else to do, and waking it costs microseconds.
 */
import { parentPort, workerData } from "node:worker_threads";

import * as tf from "@tensorflow/tfjs";

import { selectBackend } from "../backend";
import { CMD_STOP, CTRL, shardRows, type WorkerInit } from "./layout";
import { buildReplica, computeShard, taskParts } from "./replica";

const init = workerData as WorkerInit;
const { buffers, params, index, threads } = init;
const ctrl = new Int32Array(buffers.ctrl);
const scalars = new Float64Array(buffers.scalars);
const weights = new Float32Array(buffers.weights);
const grads = new Float32Array(buffers.grads);
const losses = new Float64Array(buffers.losses);
const xs = new Float32Array(buffers.x);
const ys = new Int32Array(buffers.y);
const { x: sampleSize, y: labelSize } = init.sample;
const slotBase = (index - 1) * init.trainableSize;
const parts = taskParts(init.task);
const lossBase = (index - 1) * (1 + parts.length);

await selectBackend({ force: init.backend });
const replica = buildReplica(init.task, init.model, init.teacherWeights);
if (replica.model) replica.model.fastConv = init.fastConv;
if (replica.teacher) replica.teacher.fastConv = init.fastConv;
if (replica.vlm) replica.vlm.fastConv = init.fastConv;
const trainable = new Map(params.filter((p) => p.gradOffset !== null).map((p) => [p.name, replica.params.get(p.name)!]));
parentPort!.postMessage({ type: "ready" });

let gen = 0;
let weightsVersion = -1;
for (;;) {
  Atomics.wait(ctrl, CTRL.GEN, gen);
  gen = Atomics.load(ctrl, CTRL.GEN);
  if (Atomics.load(ctrl, CTRL.CMD) === CMD_STOP) break;
  try {
    const version = Atomics.load(ctrl, CTRL.WEIGHTS_VERSION);
    if (version !== weightsVersion) {
      for (const p of params) {
        const v = replica.params.get(p.name)!;
        tf.tidy(() => v.assign(tf.tensor(weights.slice(p.weightOffset, p.weightOffset + p.size), p.shape, "float32")));
      }
      weightsVersion = version;
    }
    const total = Atomics.load(ctrl, CTRL.ROWS);
    const [a, b] = shardRows(index, threads, total);
    const r = computeShard(init.task, replica, trainable, {
      x: xs.subarray(a * sampleSize, b * sampleSize),
      y: ys.subarray(a * labelSize, b * labelSize),
      offset: a,
      total,
      seed: scalars[1]!,
      weight: scalars[0]!,
      aux: Array.from(scalars.subarray(2)),
    });
    losses[lossBase] = r.value.dataSync()[0]!;
    r.value.dispose();
    parts.forEach((k, i) => (losses[lossBase + 1 + i] = r.parts[k] ?? 0));
    for (const p of params) {
      if (p.gradOffset === null) continue;
      const g = r.grads.get(p.name)!;
      grads.set(g.dataSync() as Float32Array, slotBase + p.gradOffset);
      g.dispose();
    }
  } catch (e) {
    Atomics.store(ctrl, CTRL.ERROR, 1);
    parentPort!.postMessage({ type: "error", message: `replica ${index}: ${e instanceof Error ? e.message : String(e)}` });
  }
  Atomics.add(ctrl, CTRL.DONE, 1);
  Atomics.notify(ctrl, CTRL.DONE);
}
replica.model?.dispose();
replica.text?.dispose();
replica.vlm?.dispose();
replica.teacher?.dispose();
for (const ad of replica.adapters?.values() ?? []) tf.dispose([ad.A, ad.B]);
