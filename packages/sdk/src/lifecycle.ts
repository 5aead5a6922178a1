import type { Run } from "./run";

const EXIT_DELIVERY_MS = 5_000;

/** runs of this process whose end is still up to the process hooks */
const live = new Set<Run>();

/**
 * How a process ends decides how its runs end: the event loop running dry → finished; an
 * uncaught exception → crashed with the error; SIGINT/SIGTERM → aborted. The end is written
 * to the WAL first, then delivered (bounded wait). A program that handles these events itself
 * (its own listener) keeps control: we only step in where Node would otherwise just die.
 *
 * One set of process listeners serves every run of the process (a sweep agent or a notebook
 * starts many): one listener per run would trip Node's MaxListenersExceededWarning past 10.
 * The listeners go away with the last run, so a process without runs behaves as Node's default.
 * Returns the run's detach function.
 */
export function attachProcessHooks(run: Run): () => void {
  if (!live.size) listen();
  live.add(run);
  return () => {
    if (!live.delete(run) || live.size) return;
    unlisten();
  };
}

function endAll(state: "crashed" | "aborted" | "finished", error?: string): Run[] {
  const runs = [...live];
  for (const run of runs) run.endNow(state, error);
  return runs;
}

function deliverAllThenExit(runs: Run[], code: number) {
  void Promise.allSettled(runs.map((run) => run.deliver(EXIT_DELIVERY_MS))).finally(() => process.exit(code));
}

const onBeforeExit = () => {
  for (const run of [...live]) void run.finish({ state: "finished" });
};

const onUncaught = (err: unknown) => {
  if (process.listenerCount("uncaughtException") > 1) return;
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const runs = endAll("crashed", message);
  // what Node would have printed, before the (bounded) wait for the server
  process.stderr.write(`${message}\n`);
  deliverAllThenExit(runs, 1);
};

const onSignal = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return;
  deliverAllThenExit(endAll("aborted", `received ${signal}`), signal === "SIGINT" ? 130 : 143);
};

// process.exit() called directly: nothing async can run any more, but the WAL gets the end
const onExit = (code: number) => void endAll(code === 0 ? "finished" : "crashed", code === 0 ? undefined : `process exited with code ${code}`);

function listen() {
  process.on("beforeExit", onBeforeExit);
  process.on("uncaughtException", onUncaught);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", onExit);
}

function unlisten() {
  process.off("beforeExit", onBeforeExit);
  process.off("uncaughtException", onUncaught);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.off("exit", onExit);
}
