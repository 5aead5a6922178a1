import type { Run } from "./run";

/**
 * The parts of a tfjs LayersModel the callback reads. Structural, so the SDK needs no tfjs of
 * its own: models of @tensorflow/tfjs, tfjs-node and tfjs-node-gpu all fit.
 */
export type TfModelLike = {
  name?: string;
  countParams(): number;
  summary(lineLength?: number, positions?: number[], printFn?: (message?: unknown) => void): void;
  optimizer?: { getClassName?(): string; getConfig?(): Record<string, unknown> } | null;
  trainableWeights?: { shape: readonly (number | null)[] }[];
};

export type HeronCallbackOptions = {
  /** log batch metrics every N batches (default 1); epoch metrics are logged at every epoch end */
  logEveryNBatches?: number;
  /**
   * the model being trained: its summary, parameter counts and optimizer go into the config, and
   * its learning rate is logged. tfjs does not hand plain-object callbacks their model, so without
   * this only the metrics are logged.
   */
  model?: TfModelLike;
  /** record the model summary, parameter counts, optimizer and fit parameters in the run's config (default true) */
  logModel?: boolean;
  /** finish the run when training ends (default false: the script may log more afterwards) */
  finishOnEnd?: boolean;
  /** key prefixes: `<batch>/loss` per batch, `<epoch>/loss`, `<epoch>/val_loss` … per epoch (default "batch", "epoch") */
  batchPrefix?: string;
  epochPrefix?: string;
};

type Logs = { [key: string]: number };

/** What `callbacks:` of `model.fit()` / `model.fitDataset()` accepts (tfjs's CustomCallbackArgs). */
export type HeronCallback = {
  onTrainBegin(logs?: Logs): Promise<void>;
  onBatchEnd(batch: number, logs?: Logs): void;
  onEpochEnd(epoch: number, logs?: Logs): void;
  onTrainEnd(logs?: Logs): Promise<void>;
};

/** what tfjs sets on the CustomCallback it wraps ours in (BaseCallback.setParams: fit()'s epochs, batch size …) */
type TfCallbackThis = { params?: Record<string, unknown> } | undefined;

/**
 * Logs a tfjs training into a run: loss and every metric per batch (every `logEveryNBatches`)
 * and per epoch (validation metrics included), the learning rate when the optimizer reports
 * one, and the model summary and parameter count into the config. Steps count batches across
 * epochs (and across fit() calls given the same callback).
 *
 *   await model.fit(xs, ys, { epochs: 5, callbacks: heronCallback(run, { model, finishOnEnd: true }) });
 */
export function heronCallback(run: Run, options: HeronCallbackOptions = {}): HeronCallback {
  const every = Math.max(1, Math.floor(options.logEveryNBatches ?? 1));
  const batchPrefix = options.batchPrefix ?? "batch";
  const epochPrefix = options.epochPrefix ?? "epoch";
  let step = 0;
  const model = options.model;
  const withLr = (metrics: Record<string, number>, prefix: string) => {
    const lr = learningRate(model);
    if (lr !== null) metrics[`${prefix}/lr`] = lr;
    return metrics;
  };
  return {
    // tfjs calls these as methods of its CustomCallback, which holds fit()'s params
    async onTrainBegin(this: TfCallbackThis) {
      if (options.logModel === false) return;
      const params = this?.params ?? {};
      run.config.update({
        ...(model ? { model: describeModel(model) } : {}),
        fit: Object.fromEntries(
          ["epochs", "batchSize", "samples", "steps", "initialEpoch"].filter((k) => typeof params[k] === "number").map((k) => [k, params[k]]),
        ),
      });
    },
    onBatchEnd(_batch, logs) {
      if (step % every === 0) run.log(withLr(prefixed(logs, batchPrefix), batchPrefix), { step });
      step++;
    },
    onEpochEnd(epoch, logs) {
      run.log(withLr({ ...prefixed(logs, epochPrefix), [`${epochPrefix}/epoch`]: epoch + 1 }, epochPrefix), { step: Math.max(0, step - 1) });
    },
    async onTrainEnd() {
      if (options.finishOnEnd) await run.finish();
    },
  };
}

/** tfjs's batch logs carry `batch` and `size` beside the metrics: only the metrics are series */
function prefixed(logs: Logs | undefined, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(logs ?? {})) if (k !== "batch" && k !== "size" && typeof v === "number") out[`${prefix}/${k}`] = v;
  return out;
}

function learningRate(model: TfModelLike | undefined): number | null {
  try {
    const lr = model?.optimizer?.getConfig?.().learningRate;
    return typeof lr === "number" && Number.isFinite(lr) ? lr : null;
  } catch {
    return null; // an optimizer without a serialisable config
  }
}

function describeModel(model: TfModelLike): Record<string, unknown> {
  const lines: string[] = [];
  try {
    model.summary(100, undefined, (line) => lines.push(typeof line === "string" ? line : ""));
  } catch {
    // a model that is not built yet has no summary; the counts below may still work
  }
  const trainable = (model.trainableWeights ?? []).reduce((n, w) => n + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
  const optimizer = model.optimizer;
  const lr = learningRate(model);
  return {
    ...(model.name ? { name: model.name } : {}),
    params: model.countParams(),
    trainableParams: trainable,
    ...(optimizer?.getClassName ? { optimizer: optimizer.getClassName() } : {}),
    ...(lr !== null ? { learningRate: lr } : {}),
    ...(lines.length ? { summary: lines.join("\n") } : {}),
  };
}
