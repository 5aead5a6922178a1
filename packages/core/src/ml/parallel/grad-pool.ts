/**
 * Data-parallel gradients over worker_threads: the main thread is replica 0 and `threads − 1`
 * workers are the others, each with its own tfjs backend. A micro-batch is cut into
 * contiguous row shards; every replica computes its shard's gradients (dropout masks are the
 * whole batch's, see ForwardOptions.rows) and the main thread sums them in replica order, so
 * the optimizer sees the batch's gradient — equal to one thread's up to float summation order
 * (reduction over shards instead of over the whole batch), and identical run to run for a
 * given thread count (checkpoints and resume stay exact).
 */
import { Worker } from "node:worker_threads";

import * as tf from "@tensorflow/tfjs";

import type { ReferenceModel } from "../models/reference-models";
import type { CharTransformer } from "../text/char-transformer";
import type { MiniVlm } from "../vlm/model";
import { CMD_STEP, CMD_STOP, CTRL, layoutParams, type ParamSlot, type PoolBuffers, type WorkerInit } from "./layout";
import { computeShard, type ReplicaModels, type ShardTask, taskParts } from "./replica";

/** Atomics.waitAsync (Node ≥ 16; typed in lib es2024, newer than this project's target) */
const waitAsync = (
  Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: Promise<string> | string } }
).waitAsync;

/**
 * From TypeScript sources (the runner's job processes run under tsx) a worker does not
 * inherit the parent's module hooks: ts-worker-entry.mjs registers tsx, then loads the entry.
 */
function spawnReplica(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./grad-worker.js", import.meta.url), { workerData: init });
  const entry = new URL("./grad-worker.ts", import.meta.url).href;
  return new Worker(new URL("./ts-worker-entry.mjs", import.meta.url), { workerData: { ...init, entry } });
}

export type GradPoolOptions = {
  threads: number;
  /** what each replica computes; default classify (softmax cross-entropy) */
  task?: ShardTask;
  /** the image model (every task but finetune-text and vlm) */
  model?: ReferenceModel;
  /** the text model (task finetune-text) */
  text?: CharTransformer;
  /** the mini VLM (task vlm) */
  vlm?: MiniVlm;
  /** values per row of x and of y (default: the image model's h·w·c and one label) */
  sample?: { x: number; y: number };
  /** every parameter of the step by name (default the model's; a distillation regressor adds its own) */
  params?: Map<string, tf.Variable>;
  /** a distillation teacher (its forward pass runs on every replica) */
  teacher?: ReferenceModel;
  regressor?: ReplicaModels["regressor"];
  /** an image fine-tune's LoRA adapters (their A/B are in `params`; task finetune-image) */
  adapters?: ReplicaModels["adapters"];
  /** the parameters that train, by name (frozen ones are sent once and never get gradients) */
  trainable: Map<string, tf.Variable>;
  /** the largest micro-batch the pool will see */
  maxBatch: number;
  backend: string;
};

export type PoolGrads = { value: tf.Scalar; grads: Map<string, tf.Tensor>; parts: Record<string, number> };

export class GradPool {
  private readonly workers: Worker[] = [];
  private readonly slots: ParamSlot[];
  private readonly ctrl: Int32Array;
  private readonly scalars: Float64Array;
  private readonly weights: Float32Array;
  private readonly gradSlots: Float32Array;
  private readonly losses: Float64Array;
  private readonly xs: Float32Array;
  private readonly ys: Int32Array;
  private readonly trainableSize: number;
  private readonly labelSize: number;
  private readonly task: ShardTask;
  private readonly parts: string[];
  private readonly local: ReplicaModels;
  private failure: string | undefined;
  /** frozen weights go to the workers once; trainable ones before every step after an update */
  private sentFrozen = false;
  private closed = false;

  private constructor(
    private readonly o: GradPoolOptions,
    private readonly sampleSize: number,
  ) {
    const model = o.model;
    const params = o.params ?? (model ?? o.text ?? o.vlm)!.params;
    this.task = o.task ?? { kind: "classify" };
    this.parts = taskParts(this.task);
    this.local = { model, text: o.text, vlm: o.vlm, params, teacher: o.teacher, regressor: o.regressor, adapters: o.adapters };
    this.labelSize = o.sample?.y ?? 1;
    const names = new Set(o.trainable.keys());
    const layout = layoutParams(
      [...params].map(([name, v]) => ({ name, shape: v.shape })),
      names,
    );
    this.slots = layout.slots;
    this.trainableSize = layout.trainableSize;
    const workers = o.threads - 1;
    const teacherWeights = o.teacher?.getWeights();
    const buffers: PoolBuffers = {
      ctrl: new SharedArrayBuffer(CTRL.LENGTH * 4),
      scalars: new SharedArrayBuffer(8 * 8),
      weights: new SharedArrayBuffer(layout.weightSize * 4),
      grads: new SharedArrayBuffer(Math.max(1, workers * layout.trainableSize) * 4),
      losses: new SharedArrayBuffer(Math.max(1, workers) * (1 + this.parts.length) * 8),
      x: new SharedArrayBuffer(o.maxBatch * sampleSize * 4),
      y: new SharedArrayBuffer(o.maxBatch * this.labelSize * 4),
    };
    this.ctrl = new Int32Array(buffers.ctrl);
    this.scalars = new Float64Array(buffers.scalars);
    this.weights = new Float32Array(buffers.weights);
    this.gradSlots = new Float32Array(buffers.grads);
    this.losses = new Float64Array(buffers.losses);
    this.xs = new Float32Array(buffers.x);
    this.ys = new Int32Array(buffers.y);
    for (let i = 1; i < o.threads; i++) {
      const init: WorkerInit = {
        task: this.task,
        teacherWeights,
        index: i,
        threads: o.threads,
        backend: o.backend,
        fastConv: (model ?? o.vlm)?.fastConv ?? false,
        model: model && { name: model.name, inputShape: model.inputShape, numClasses: model.numClasses },
        sample: { x: sampleSize, y: this.labelSize },
        params: this.slots,
        trainableSize: layout.trainableSize,
        buffers,
      };
      const worker = spawnReplica(init);
      worker.on("message", (m: { type: string; message?: string }) => {
        if (m.type === "error") this.failure ??= m.message;
      });
      worker.on("error", (e) => (this.failure ??= `replica ${i} crashed: ${e.message}`));
      worker.on("exit", (code) => {
        if (!this.closed) this.failure ??= `replica ${i} exited (code ${code})`;
      });
      this.workers.push(worker);
    }
  }

  /** starts `threads − 1` workers and waits until each has its backend and model */
  static async start(o: GradPoolOptions): Promise<GradPool> {
    if (!Number.isInteger(o.threads) || o.threads < 2) throw new Error(`a gradient pool needs ≥ 2 threads, got ${o.threads}`);
    if (!o.model && !((o.text || o.vlm) && o.sample)) throw new Error("a gradient pool needs an image model, or a text model or VLM and its sample sizes");
    const pool = new GradPool(o, o.sample?.x ?? o.model!.inputShape.reduce((a, b) => a * b, 1));
    try {
      await Promise.all(
        pool.workers.map(
          (wk, i) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: { type: string; message?: string }) => {
                if (m.type === "ready") resolve();
                if (m.type === "error") reject(new Error(m.message));
              };
              wk.on("message", onMessage);
              wk.once("error", (e) => reject(new Error(`replica ${i + 1} failed to start: ${e.message}`)));
              wk.once("exit", (code) => reject(new Error(`replica ${i + 1} exited while starting (code ${code})`)));
            }),
        ),
      );
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get threads(): number {
    return this.o.threads;
  }

  /** copies the weights the workers need into shared memory and bumps their version */
  private publishWeights(): void {
    for (const s of this.slots) {
      if (s.gradOffset === null && this.sentFrozen) continue;
      this.weights.set(this.local.params.get(s.name)!.dataSync() as Float32Array, s.weightOffset);
    }
    this.sentFrozen = true;
    Atomics.add(this.ctrl, CTRL.WEIGHTS_VERSION, 1);
  }

  /**
   * Gradients of one micro-batch (`x`/`y` hold its `rows` rows) summed over the replicas,
   * by parameter name, and its loss. The model's current weights are what every replica uses.
   * `aux`: the task's numbers about the whole micro-batch (finetune-text, a vlm language stage: its sequence length
   * and answer tokens), at most 6.
   */
  async grads(x: Float32Array, y: Int32Array, rows: number, seed: number, weight: number, aux: number[] = []): Promise<PoolGrads> {
    if (this.failure) throw new Error(`data-parallel training stopped: ${this.failure}`);
    if (rows > this.o.maxBatch) throw new Error(`micro-batch of ${rows} rows exceeds the pool's ${this.o.maxBatch}`);
    const threads = this.o.threads;
    this.publishWeights();
    this.xs.set(x.subarray(0, rows * this.sampleSize));
    this.ys.set(y.subarray(0, rows * this.labelSize));
    this.scalars[0] = weight;
    this.scalars.set(aux, 2);
    Atomics.store(this.ctrl, CTRL.ROWS, rows);
    this.scalars[1] = seed;
    Atomics.store(this.ctrl, CTRL.ERROR, 0);
    Atomics.store(this.ctrl, CTRL.DONE, 0);
    Atomics.store(this.ctrl, CTRL.CMD, CMD_STEP);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);

    // replica 0: the first shard, here, while the workers compute theirs
    const end = Math.floor(rows / threads);
    const own = computeShard(this.task, this.local, this.o.trainable, {
      x: x.subarray(0, end * this.sampleSize),
      y: y.subarray(0, end * this.labelSize),
      offset: 0,
      total: rows,
      seed,
      weight,
      aux,
    });
    await this.waitForWorkers();
    if (Atomics.load(this.ctrl, CTRL.ERROR) !== 0 || this.failure) {
      tf.dispose([own.value, ...own.grads.values()]);
      throw new Error(`data-parallel training stopped: ${this.failure ?? "a replica failed"}`);
    }
    const out = new Map<string, tf.Tensor>();
    for (const s of this.slots) {
      if (s.gradOffset === null) continue;
      const mine = own.grads.get(s.name)!;
      const sum = tf.tidy(() => {
        let acc: tf.Tensor = mine;
        for (let k = 0; k < threads - 1; k++) {
          const at = k * this.trainableSize + s.gradOffset!;
          acc = tf.add(acc, tf.tensor(this.gradSlots.subarray(at, at + s.size), s.shape, "float32"));
        }
        return acc;
      });
      mine.dispose();
      out.set(s.name, sum);
    }
    let lossSum = own.value.dataSync()[0]!;
    own.value.dispose();
    const parts = { ...own.parts };
    const stride = 1 + this.parts.length;
    for (let k = 0; k < threads - 1; k++) {
      lossSum += this.losses[k * stride]!;
      this.parts.forEach((name, i) => (parts[name] = (parts[name] ?? 0) + this.losses[k * stride + 1 + i]!));
    }
    return { value: tf.scalar(lossSum), grads: out, parts };
  }

  /** resolves once every worker counted itself done; never blocks the event loop */
  private async waitForWorkers(): Promise<void> {
    const target = this.o.threads - 1;
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL.DONE);
      if (done >= target) return;
      if (this.failure) return;
      // a crashed worker never counts itself: wake up now and then to notice (failure is set by its exit event)
      const r = waitAsync(this.ctrl, CTRL.DONE, done, 1000);
      if (r.async) await r.value;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.CMD, CMD_STOP);
    Atomics.add(this.ctrl, CTRL.GEN, 1);
    Atomics.notify(this.ctrl, CTRL.GEN);
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => void w.terminate().then(() => resolve()), 2000);
            w.once("exit", () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }
}
