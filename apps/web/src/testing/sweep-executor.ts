import type { Executor } from "@heron/runner";
import { init } from "@heron/sdk";

/**
 * A stand-in training job for sweep tests: through the real SDK it reports `test/accuracy` at
 * each epoch end, a smooth function of the spec's lr and batchSize (best near lr 3e-3, batch
 * 64), so a sweep has a known optimum and early stopping has something to compare. Stops like
 * a killed process when cancelled (or pruned), finishing its run `aborted`.
 */
export function createSweepExecutor(opts: { epochMs?: number } = {}): Executor {
  const epochMs = opts.epochMs ?? 150;
  return {
    start(lease, ctx) {
      let killed: NodeJS.Signals | null = null;
      const done = (async () => {
        const run = await init({
          host: ctx.serverUrl,
          apiKey: lease.jobToken,
          project: lease.projectName,
          id: lease.runId,
          resume: "allow",
          config: lease.spec,
        });
        const spec = lease.spec as { epochs?: number; lr?: number; batchSize?: number | "auto" };
        const quality = sweepQuality(spec.lr ?? 0.01, typeof spec.batchSize === "number" ? spec.batchSize : 64);
        const epochs = spec.epochs ?? 1;
        for (let epoch = 1; epoch <= epochs && !killed; epoch++) {
          await new Promise((r) => setTimeout(r, epochMs));
          if (killed) break;
          run.log({ "test/accuracy": quality * (1 - 0.5 ** epoch) }, { step: epoch * 10 });
        }
        await run.finish({ state: killed ? "aborted" : "finished" }).catch(() => undefined);
        return killed ? { exitCode: null, signal: killed } : { exitCode: 0, signal: null };
      })().catch((err: unknown) => {
        ctx.onLog("stderr", String(err));
        return { exitCode: 1, signal: null };
      });
      return { kill: (signal) => void (killed ??= signal), done };
    },
  };
}

/** the final accuracy a trial with these parameters reaches (in (0, 1)) */
export function sweepQuality(lr: number, batchSize: number): number {
  return Math.max(0.05, 0.95 - 0.2 * Math.abs(Math.log10(lr) + 2.5) - Math.abs(Math.log2(batchSize / 64)) * 0.05);
}
