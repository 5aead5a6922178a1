import type { Run } from "./run";

const EXIT_DELIVERY_MS = 5_000;

/**
 * How a process ends decides how its run ends: the event loop running dry → finished; an
 * uncaught exception → crashed with the error; SIGINT/SIGTERM → aborted. The end is written
 * to the WAL first, then delivered (bounded wait). A program that handles these events itself
 * (its own listener) keeps control: we only step in where Node would otherwise just die.
 */
export function attachProcessHooks(run: Run): () => void {
  const onBeforeExit = () => void run.finish({ state: "finished" });
  const onUncaught = (err: unknown) => {
    if (process.listenerCount("uncaughtException") > 1) return;
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    run.endNow("crashed", message);
    // what Node would have printed, before the (bounded) wait for the server
    process.stderr.write(`${message}\n`);
    void run.deliver(EXIT_DELIVERY_MS).finally(() => process.exit(1));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    run.endNow("aborted", `received ${signal}`);
    void run.deliver(EXIT_DELIVERY_MS).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  // process.exit() called directly: nothing async can run any more, but the WAL gets the end
  const onExit = (code: number) => run.endNow(code === 0 ? "finished" : "crashed", code === 0 ? undefined : `process exited with code ${code}`);
  process.on("beforeExit", onBeforeExit);
  process.on("uncaughtException", onUncaught);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", onExit);
  return () => {
    process.off("beforeExit", onBeforeExit);
    process.off("uncaughtException", onUncaught);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onExit);
  };
}
