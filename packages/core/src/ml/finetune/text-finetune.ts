/**
 * `finetune` on the text model — seed 002's recipe at character scale:
 *   base      pre-trained here on the generated corpus (stage 1) or a finished run's checkpoint
 *   method    lora (adapters on the target projections, base frozen) | head (new lm_head) | full
 *   data      instruction → answer pairs through `process_func` (prompt masked with −100)
 *   tracking  loss, grad_norm, lr, epoch every logEvery steps; text samples (question /
 *             model answer / ground truth) before training and after each epoch, on the
 *             first `samples` pairs, which are held out of training like seed 002's test_df;
 *             trainable parameter count and share; a checkpoint every saveEvery steps and at
 *             each epoch end, resumable mid-epoch (the shared training loop, ../train-loop.ts).
 * At the end the adapters are merged into the base (export) and the merged model's outputs
 * are checked against base + adapters. Both stages run data-parallel on the CPU backends
 * (`threads`, chosen from the model's work per sequence; ../parallel/text-shard.ts).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";

import type { JobContext, JobResult, TextSample } from "../../jobs/job-context";
import { denseLayersOf, type FinetuneSpec, selectLoraTargets, type SftPair, storedTextConfig, TextPretrainSchema } from "../../schemas/finetune-spec";
import type { Threads } from "../../schemas/training-fields";
import { loadLatestCheckpoint, saveCheckpoint } from "../checkpoint";
import { describeSource, loadRunCheckpoint } from "../distill/teacher";
import { adapterWeights, createLoraAdapters, disposeAdapters, type LoraAdapter, mergeLoraWeights, setAdapterWeights } from "../lora/lora";
import { maskedLmLoss } from "../losses";
import { Optimizer } from "../optim";
import { GradPool } from "../parallel/grad-pool";
import { adapterShapes } from "../parallel/replica";
import { packTextBatch, textMacsPerSample } from "../parallel/text-shard";
import { resolveThreads, resumedThreadsNote } from "../parallel/threads";
import { hash32, Rng } from "../rng";
import { CharTransformer } from "../text/char-transformer";
import { almanacCorpus } from "../text/corpus";
import { collate, loadSftPairs, processPair, type SftExample } from "../text/sft-data";
import { decode, encode, encodePrompt } from "../text/tokenizer";
import { runTrainLoop, type StepOutcome } from "../train-loop";
import { describeSchedule, FINETUNE_ADAM as adam, finetuneSchedule } from "./schedule";
import { optimizerStep, poolOptimizerStep } from "./step";
import { adapterVariables, chooseTrainable } from "./trainable";

type Parallel = { threads: Threads | undefined; backend: string };

/** replicas of the text model (and its adapters); sequences travel padded to the context */
function startTextPool(
  model: CharTransformer,
  adapters: Map<string, LoraAdapter> | undefined,
  trainable: Map<string, tf.Variable>,
  maxBatch: number,
  threads: number,
  backend: string,
) {
  return GradPool.start({
    threads,
    backend,
    maxBatch,
    task: { kind: "finetune-text", config: model.config, adapters: adapterShapes(adapters) },
    text: model,
    params: new Map([...model.params, ...adapterVariables(adapters)]),
    adapters,
    trainable,
    sample: { x: model.config.context, y: model.config.context },
  });
}

/**
 * Stage 1: next-character prediction on the generated corpus, checkpointed under <dir>/base —
 * every tenth of the steps and when stopped, so a new attempt on this host continues from
 * there (batches are a function of (seed, step), Adam's state is restored: the same model as
 * an uninterrupted run), and once done.
 */
export async function pretrainTextModel(raw: unknown, ctx: JobContext, seed: number, par: Parallel): Promise<CharTransformer> {
  const p = TextPretrainSchema.parse(raw);
  const dir = join(ctx.checkpointDir, "base");
  const last = loadLatestCheckpoint(dir, ctx.warn);
  if (last?.extra?.done === true) {
    const model = new CharTransformer(storedTextConfig(last.extra.textConfig), seed);
    model.setWeights(last.weights);
    ctx.info(`base: restored this job's pre-trained text model (${dir})`);
    return model;
  }
  const model = new CharTransformer(p.model, seed);
  const ids = encode(almanacCorpus(seed));
  const L = p.model.context;
  const opt = new Optimizer(adam, model.params);
  const save = (step: number, done: boolean) =>
    saveCheckpoint(dir, {
      step,
      epoch: 0,
      stepInEpoch: step,
      seed,
      model: "char-transformer",
      weights: model.getWeights(),
      optimizer: done ? { step: 0, slots: {} } : opt.getState(),
      extra: { done, textConfig: model.config },
    });
  let from = 0;
  if (last && JSON.stringify(storedTextConfig(last.extra?.textConfig)) === JSON.stringify(model.config)) {
    model.setWeights(last.weights);
    opt.setState(last.optimizer);
    from = last.step;
    ctx.info(`base: pre-training resumed at step ${from} of ${p.steps}`);
  } else {
    // a pre-training of another model config (the spec changed): its checkpoints must not be taken as the newest
    if (last) rmSync(dir, { recursive: true, force: true });
    ctx.info(
      `base: pre-training a ${p.model.layers}-layer char transformer (${model.paramCount.toLocaleString("en-US")} params) for ${p.steps} steps on ${ids.length.toLocaleString("en-US")} characters`,
    );
  }
  const every = Math.max(1, Math.ceil(p.steps / 10));
  let lastYield = performance.now();
  const threads = resolveThreads(par.threads, { backend: par.backend, batchSize: p.batchSize, macsPerSample: textMacsPerSample(model.config, model.vocab) });
  ctx.info(`base: ${threads.reason}`);
  let pool: GradPool | undefined;
  try {
    if (threads.threads > 1) pool = await startTextPool(model, undefined, model.params, p.batchSize, threads.threads, par.backend);
    for (let step = from; step < p.steps; step++) {
      if (ctx.signal.aborted) {
        save(step, false);
        throw new Error(`aborted during pre-training (checkpoint at step ${step}; a new attempt on this host resumes there)`);
      }
      const rng = Rng.derive(seed, "pretrain", step);
      const batch = new Int32Array(p.batchSize * L);
      const labels = new Int32Array(p.batchSize * L);
      for (let b = 0; b < p.batchSize; b++) {
        const start = rng.int(ids.length - L - 1);
        for (let t = 0; t < L; t++) batch[b * L + t] = labels[b * L + t] = ids[start + t]!;
      }
      let r;
      if (pool) {
        // no adapters while pre-training: nothing draws a dropout mask, the seed is unused
        const b = packTextBatch(batch, labels, p.batchSize, L, L);
        r = await poolOptimizerStep([() => pool!.grads(b.x, b.y, b.rows, 0, 1, b.aux)], opt, p.lr);
      } else {
        const x = tf.tensor2d(batch, [p.batchSize, L], "int32");
        const y = tf.tensor2d(labels, [p.batchSize, L], "int32");
        r = optimizerStep(model.params, [{ weight: 1, loss: () => ({ loss: maskedLmLoss(model.forward(x, { training: true }), y) }) }], opt, p.lr);
        tf.dispose([x, y]);
      }
      if ((step + 1) % 10 === 0 || step + 1 === p.steps) ctx.log({ "pretrain/loss": r.loss }, step + 1);
      if ((step + 1) % every === 0 && step + 1 < p.steps) save(step + 1, false);
      // as the shared loop does: without yielding, cancel/drain and the SDK's sends wait for the end
      if (performance.now() - lastYield > 100) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    save(p.steps, true);
  } finally {
    await pool?.close();
    opt.dispose();
  }
  return model;
}

async function loadTextBase(spec: FinetuneSpec, ctx: JobContext, seed: number, backend: string): Promise<CharTransformer> {
  if ("pretrain" in spec.base) return pretrainTextModel(spec.base.pretrain, ctx, seed, { threads: spec.threads, backend });
  const ck = loadRunCheckpoint(spec.base, ctx, "base");
  if (ck.model !== "char-transformer" || !ck.extra?.textConfig)
    throw new Error(`base ${describeSource(spec.base)}: its checkpoint holds ${ck.model}, not the text model`);
  const model = new CharTransformer(storedTextConfig(ck.extra.textConfig), seed);
  model.setWeights(ck.weights);
  ctx.info(`base: text model from ${describeSource(spec.base)} (step ${ck.step})`);
  return model;
}

/** question / model answer / ground truth rows, like seed 002's SwanLab callback */
export function sampleAnswers(model: CharTransformer, pairs: SftPair[], adapters: Map<string, LoraAdapter> | undefined, maxNew: number): TextSample[] {
  return pairs.map((p) => {
    const answer = decode(model.generate(encodePrompt(p.instruction, p.input), maxNew, adapters));
    return { text: `[Q] ${p.input}\n[LLM] ${answer}\n[GT] ${p.output}`, caption: answer };
  });
}

/** what trains: LoRA adapters on the target projections, a fresh lm_head, or everything */
function selectTrainable(model: CharTransformer, spec: FinetuneSpec, seed: number) {
  let adapters: Map<string, LoraAdapter> | undefined;
  const trainable = new Map<string, tf.Variable>();
  for (const v of model.params.values()) v.trainable = spec.method === "full";
  if (spec.method === "lora") {
    const targets = selectLoraTargets(denseLayersOf({ text: model.config, vocab: model.vocab }), spec.lora!);
    adapters = createLoraAdapters(targets, spec.lora!, seed);
    for (const ad of adapters.values()) trainable.set(`${ad.layer}.lora_A`, ad.A).set(`${ad.layer}.lora_B`, ad.B);
  } else if (spec.method === "head") {
    const w = model.params.get("lm_head.weight")!;
    w.assign(tf.randomNormal(w.shape, 0, 0.02, "float32", hash32(seed, "new-head")));
    model.params.get("lm_head.bias")!.assign(tf.zeros([model.vocab]));
    for (const n of ["lm_head.weight", "lm_head.bias"]) trainable.set(n, model.params.get(n)!);
  } else for (const [n, v] of model.params) trainable.set(n, v);
  for (const v of trainable.values()) v.trainable = true;
  return { adapters, trainable };
}

/**
 * Export: adapters folded into the base, saved as the job's final checkpoint. The merged model
 * must answer exactly like base + adapters; returns the largest logit difference.
 */
function exportMerged(
  model: CharTransformer,
  adapters: Map<string, LoraAdapter>,
  probePair: SftPair | undefined,
  ctx: JobContext,
  at: { step: number; epochs: number; seed: number },
): number {
  const merged = mergeLoraWeights(model.getWeights(), adapters);
  const probe = tf.tensor2d([encodePrompt(probePair?.instruction ?? "", probePair?.input ?? "a")[0]!, ...encode("probe text")], [1, 11], "int32");
  const withAd = tf.tidy(() => model.forward(probe, { adapters }).dataSync() as Float32Array);
  const copy = new CharTransformer(model.config);
  copy.setWeights(merged);
  const mergedOut = tf.tidy(() => copy.forward(probe).dataSync() as Float32Array);
  let mergeDiff = 0;
  for (let i = 0; i < withAd.length; i++) mergeDiff = Math.max(mergeDiff, Math.abs(withAd[i]! - mergedOut[i]!));
  copy.dispose();
  probe.dispose();
  saveCheckpoint(ctx.checkpointDir, {
    step: at.step,
    epoch: at.epochs,
    stepInEpoch: 0,
    seed: at.seed,
    model: "char-transformer",
    weights: merged,
    optimizer: { step: 0, slots: {} },
    extra: { kind: "finetune-text", textConfig: model.config, merged: true },
  });
  ctx.info(`adapters merged into the base for export (max |Δlogit| vs base + adapters: ${mergeDiff.toExponential(2)})`);
  return mergeDiff;
}

// Long because it reads as the recipe, in order: data, tokenizer, base model, adapters, the
// shared training loop, evaluation on held-out prompts, merge and export.
export async function runTextFinetune(spec: FinetuneSpec, ctx: JobContext, backendName: string): Promise<JobResult> {
  const seed = spec.seed ?? 0;
  const pairs = loadSftPairs(spec.data!, seed);
  const heldOut = pairs.length > spec.samples ? pairs.slice(0, spec.samples) : [];
  const samplePairs = heldOut.length ? heldOut : pairs.slice(0, spec.samples);
  let train = heldOut.length ? pairs.slice(spec.samples) : pairs;
  if (spec.maxTrainSamples) train = train.slice(0, spec.maxTrainSamples);
  const model = await loadTextBase(spec, ctx, seed, backendName);
  const examples: SftExample[] = train.map((p) => processPair(p, Math.min(spec.maxLength, model.config.context)));
  const learnable = examples.filter((e) => e.labels.some((l) => l >= 0));
  if (!learnable.length) throw new Error(`data: no pair has an answer token left after truncation to maxLength ${spec.maxLength}; raise maxLength`);

  const { adapters, trainable: byMethod } = selectTrainable(model, spec, seed);
  const { trainable, plan, share } = chooseTrainable(model.params, adapters, byMethod, spec, ctx);
  const trainableCount = plan.trainableCount;
  ctx.log({ "train/trainable_params": trainableCount, "train/trainable_share": share }, 0);

  const opt = new Optimizer(adam, trainable);
  const bs = Math.min(spec.batchSize, learnable.length);
  const microPerEpoch = Math.ceil(learnable.length / bs);
  const stepsPerEpoch = Math.ceil(microPerEpoch / spec.gradAccumulation);
  const sched = finetuneSchedule(spec, stepsPerEpoch * spec.epochs);
  ctx.info(describeSchedule(spec, sched));
  const threads = resolveThreads(spec.threads, { backend: backendName, batchSize: bs, macsPerSample: textMacsPerSample(model.config, model.vocab) });
  ctx.info(threads.reason);
  const maxNew = Math.max(8, ...samplePairs.map((p) => encode(p.output).length + 4));
  const snapshot = (extra: Record<string, unknown> = {}) => ({
    seed,
    model: "char-transformer",
    weights: { ...model.getWeights(), ...(adapters ? adapterWeights(adapters) : {}) },
    optimizer: opt.getState(),
    extra: { kind: "finetune-text", textConfig: model.config, threads: threads.threads, ...extra },
  });
  let pool: GradPool | undefined;
  /** one optimizer step over gradAccumulation micro-batches of the epoch's order (on the replicas when there is a pool) */
  const runStep = async (epoch: number, s: number, order: Uint32Array, step: number): Promise<StepOutcome> => {
    const micros = [];
    const tensors: tf.Tensor[] = [];
    const first = s * spec.gradAccumulation;
    const last = Math.min(first + spec.gradAccumulation, microPerEpoch);
    const inStep = Math.min(last * bs, learnable.length) - first * bs;
    const lr = sched.lrAt(step);
    const batchOf = (m: number) => Array.from(order.subarray(m * bs, Math.min((m + 1) * bs, learnable.length)), (i) => learnable[i]!);
    if (pool) {
      const poolMicros = Array.from({ length: last - first }, (_, i) => () => {
        const batch = batchOf(first + i);
        const c = collate(batch);
        const b = packTextBatch(c.ids, c.labels, batch.length, c.length, model.config.context);
        return pool!.grads(b.x, b.y, b.rows, hash32(seed, "sft-dropout", epoch, first + i), batch.length / inStep, b.aux);
      });
      return { ...(await poolOptimizerStep(poolMicros, opt, lr, sched.clipGradNorm)), lr, samples: inStep };
    }
    for (let m = first; m < last; m++) {
      const batch = batchOf(m);
      const c = collate(batch);
      const x = tf.tensor2d(c.ids, [batch.length, c.length], "int32");
      const y = tf.tensor2d(c.labels, [batch.length, c.length], "int32");
      tensors.push(x, y);
      const dropSeed = hash32(seed, "sft-dropout", epoch, m);
      micros.push({
        weight: batch.length / inStep,
        loss: () => ({ loss: maskedLmLoss(model.forward(x, { training: true, seed: dropSeed, adapters }), y) }),
      });
    }
    const r = optimizerStep(trainable, micros, opt, lr, sched.clipGradNorm);
    tf.dispose(tensors);
    return { ...r, lr, samples: inStep };
  };

  let lastLoss = NaN;
  const firstLosses: number[] = [];
  try {
    if (threads.threads > 1) pool = await startTextPool(model, adapters, trainable, bs, threads.threads, backendName);
    const result = await runTrainLoop({
      ctx,
      epochs: spec.epochs,
      stepsPerEpoch,
      samples: learnable.length,
      seed,
      shuffleStream: "sft-shuffle",
      runStep,
      cadence: { logEvery: spec.logEvery, logFinalStep: true, progress: "throttled", samplesPerStep: bs * spec.gradAccumulation, meanLoss: true },
      checkpoints: {
        dir: ctx.checkpointDir,
        every: spec.saveEvery,
        snapshot,
        restore: async (ck) => {
          if (ck.extra?.kind !== "finetune-text" || ck.extra.merged === true) return false;
          model.setWeights(ck.weights);
          if (adapters) setAdapterWeights(adapters, ck.weights);
          opt.setState(ck.optimizer);
          const note = resumedThreadsNote(ck.extra, threads.threads);
          if (note) ctx.info(note);
          await ctx.rewind?.(ck.step);
          return true;
        },
      },
      onStart: (from) => {
        if (from.step === 0) ctx.logText("samples", sampleAnswers(model, samplePairs, adapters, maxNew), 0);
      },
      afterStep: (r) => {
        lastLoss = r.loss;
        if (firstLosses.length < 3) firstLosses.push(r.loss);
      },
      endEpoch: (epoch, step) => {
        ctx.logText("samples", sampleAnswers(model, samplePairs, adapters, maxNew), step);
        ctx.info(`epoch ${epoch + 1}/${spec.epochs}: loss ${lastLoss.toFixed(4)}`);
      },
    });
    if (result.aborted) return { summary: { stopped: "aborted", steps: result.step } };
    let mergeDiff = 0;
    if (adapters) mergeDiff = exportMerged(model, adapters, samplePairs[0], ctx, { step: result.step, epochs: spec.epochs, seed });
    else saveCheckpoint(ctx.checkpointDir, { ...snapshot({ merged: true }), step: result.step, epoch: spec.epochs, stepInEpoch: 0 });
    const summary: Record<string, number | string> = {
      backend: backendName,
      method: spec.method,
      param_count: model.paramCount,
      trainable_params: trainableCount,
      trainable_share: share,
      threads: threads.threads,
      train_loss_first: firstLosses[0] ?? NaN,
      train_loss: lastLoss,
      steps: result.step,
      merge_max_abs_diff: mergeDiff,
    };
    ctx.setSummary(summary);
    return { summary };
  } finally {
    await pool?.close();
    opt.dispose();
    if (adapters) disposeAdapters(adapters);
    model.dispose();
  }
}
