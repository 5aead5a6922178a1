/**
 * `kind: "vlm-stage"` jobs: one stage of the mini VLM (schemas/vlm-spec.ts). Builds the
 * model, starts from an earlier stage's checkpoint (`init`), freezes by pattern, and runs
 * the shared training loop with the stage's step and evaluation (vlm-stages.ts). Checkpoints
 * leave frozen tensors loaded from an earlier stage out (they point to that stage's), and a
 * resumed attempt replays the same steps bit for bit. With more than one thread (resolveThreads)
 * each step's gradients come from data-parallel replicas (parallel/vlm-shard.ts).
 */
import type { JobContext, JobResult } from "../../jobs/job-context";
import { VLM_STAGE_DEFAULTS, type VlmStageSpec, type VlmStageSpecInput, VlmStageSpecSchema } from "../../schemas/vlm-spec";
import { selectBackend } from "../backend";
import { type Dataset, loadSpecDataset } from "../datasets";
import { applyFreeze } from "../freeze";
import { Optimizer } from "../optim";
import { GradPool } from "../parallel/grad-pool";
import { resolveThreads, resumedThreadsNote } from "../parallel/threads";
import { reachedParams, vlmMacsPerSample, vlmSample, vlmTask } from "../parallel/vlm-shard";
import { learningRate } from "../schedule";
import { loadStageInit, stageWeights } from "../stage-init";
import { runTrainLoop } from "../train-loop";
import { MiniVlm, type VlmConfig } from "./model";
import { VlmTasks } from "./tasks";
import { WordTokenizer } from "./tokenizer";
import { encoderFrozen, encoderStage, languageStage, type StageRun } from "./vlm-stages";

/** the model a spec describes on a dataset: every stage of one pipeline builds the same one */
export function vlmSetup(spec: Pick<VlmStageSpec, "encoder" | "lm" | "patchPool">, ds: Dataset): { config: VlmConfig; tasks: VlmTasks; tok: WordTokenizer } {
  const tasks = new VlmTasks(ds.name, ds.classNames);
  const tok = new WordTokenizer(tasks.words());
  const mw = tasks.maxWords();
  const config: VlmConfig = {
    inputShape: ds.inputShape,
    numClasses: ds.numClasses,
    channels: spec.encoder.channels,
    patchPool: spec.patchPool,
    lm: { ...spec.lm, vocab: tok.size },
    // question + <answer> + answer + <end>
    maxTextTokens: mw.question + mw.answer + 2,
  };
  return { config, tasks, tok };
}

/**
 * Long because it wires one stage in order — data, model, init, freezing, optimizer, the
 * loop's checkpoint hooks, the summary — each a few lines that read best where they happen.
 */
export async function runVlmStageJob(specIn: VlmStageSpec | VlmStageSpecInput, ctx: JobContext): Promise<JobResult> {
  const spec = VlmStageSpecSchema.parse(specIn);
  const backend = await selectBackend();
  const seed = spec.seed ?? 0;
  const d = VLM_STAGE_DEFAULTS[spec.stage];
  const epochs = spec.epochs ?? d.epochs;
  const batchSize = spec.batchSize ?? d.batchSize;
  const label = `${spec.stage}: `;
  const ds = loadSpecDataset(spec, (m) => ctx.warn(m));
  const { config, tasks, tok } = vlmSetup(spec, ds);
  const model = new MiniVlm(config, spec.stage === "encoder" ? "encoder" : "full", seed);
  model.fastConv = backend.name === "wasm" || backend.name === "cpu";
  let opt: Optimizer | undefined;
  let pool: GradPool | undefined;
  try {
    const init = loadStageInit(model.params, spec.init, ctx, label);
    if (!init && spec.stage !== "encoder") ctx.warn(`${label}no init: the encoder starts untrained (run the vlm recipe, or give init.fromStage)`);
    const fz = applyFreeze(model.params, spec, ctx, label);
    opt = new Optimizer({ name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, fz.trainable).init();
    ctx.info(
      `${label}mini VLM (${model.parts}): ${model.paramCount.toLocaleString("en-US")} params, ${model.imageTokens} image tokens, ` +
        `${tok.size}-word vocabulary, on ${backend.name}; ${ds.source}`,
    );
    const N = ds.train.count;
    const stepsPerEpoch = Math.ceil(N / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const warmupSteps = Math.min(100, Math.floor(totalSteps / 10));
    const task = vlmTask(model, spec.stage, encoderFrozen(model, fz.frozen));
    const threads = resolveThreads(spec.threads, { backend: backend.name, batchSize: Math.min(batchSize, N), macsPerSample: vlmMacsPerSample(model, task) });
    ctx.info(`${label}${threads.reason}`);
    if (threads.threads > 1)
      pool = await GradPool.start({
        threads: threads.threads,
        task,
        vlm: model,
        sample: vlmSample(model, task),
        trainable: reachedParams(fz.trainable, task),
        maxBatch: batchSize,
        backend: backend.name,
      });
    const deps = {
      stage: spec.stage,
      model,
      ds,
      tasks,
      tok,
      trainable: fz.trainable,
      frozen: fz.frozen,
      opt,
      ctx,
      seed,
      batchSize,
      lrAt: (step: number) => learningRate(step, { lr: spec.lr ?? d.lr, schedule: "cosine", warmupSteps, totalSteps }),
      clipGradNorm: spec.clipGradNorm,
      samples: spec.samples,
      epochs,
      pool,
    };
    const run: StageRun = spec.stage === "encoder" ? encoderStage(deps) : languageStage(deps);
    const o = opt;
    const result = await runTrainLoop({
      ctx,
      label,
      epochs,
      stepsPerEpoch,
      samples: N,
      seed,
      shuffleStream: `vlm-${spec.stage}`,
      runStep: run.runStep,
      cadence: { logEvery: spec.logEvery, progress: "throttled", samplesPerStep: batchSize },
      checkpoints: {
        dir: ctx.checkpointDir,
        every: spec.checkpointEvery,
        snapshot: () => ({
          seed,
          model: "vlm",
          ...stageWeights(model.params, fz.frozen, init, spec.checkpoint),
          optimizer: o.getState(),
          extra: { stage: spec.stage, threads: threads.threads },
        }),
        restore: (ck) => {
          if (ck.model !== "vlm" || ck.extra?.stage !== spec.stage)
            throw new Error(
              `checkpoint in ${ctx.checkpointDir} is for ${ck.model} ${JSON.stringify(ck.extra?.stage ?? null)}, not the vlm ${spec.stage} stage`,
            );
          const note = resumedThreadsNote(ck.extra, threads.threads);
          if (note) ctx.info(`${label}${note}`);
          model.setWeights(ck.weights);
          o.setState(ck.optimizer);
          return true;
        },
      },
      evaluate: run.evaluate,
      describeEpoch: (e, ev) => `${label}epoch ${e + 1}/${epochs}: test loss ${ev.loss.toFixed(4)}, accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
      endEpoch: run.endEpoch,
    });
    const summary: Record<string, number | string> = {
      backend: backend.name,
      stage: spec.stage,
      param_count: model.paramCount,
      steps: result.step,
      threads: threads.threads,
    };
    if (result.aborted) summary.stopped = "aborted";
    else Object.assign(summary, run.finalMetrics());
    summary.samples_per_s = Math.round(result.samples / Math.max(1e-9, result.seconds));
    ctx.setSummary(summary);
    return { summary };
  } finally {
    await pool?.close();
    opt?.dispose();
    model.dispose();
  }
}
