import type { Executor } from "@heron/runner";
import { init } from "@heron/sdk";

/**
 * A fast stand-in for the real training process (browser tests watch the dashboard, not
 * tfjs): it logs through the real SDK with the lease's job token, one step every `stepMs`,
 * `stepsPerEpoch × epochs` steps, and stops like a killed process when cancelled.
 */
export function createFakeExecutor(opts: { stepMs?: number; stepsPerEpoch?: number } = {}): Executor {
  const stepMs = opts.stepMs ?? 100;
  const perEpoch = opts.stepsPerEpoch ?? 20;
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
        const epochs = "epochs" in lease.spec ? Number(lease.spec.epochs) : 1;
        const total = epochs * perEpoch;
        ctx.onLog("stdout", `[fake] job ${lease.jobId}: ${total} steps`);
        for (let step = 0; step < total && !killed; step++) {
          run.log({ "train/loss": 2 * Math.exp(-step / 30) + 0.05 * Math.sin(step), "train/lr": 0.001 }, { step });
          if (step % perEpoch === perEpoch - 1) run.log({ "test/accuracy": 1 - Math.exp(-(step + 1) / 40) }, { step });
          await new Promise((r) => setTimeout(r, stepMs));
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
