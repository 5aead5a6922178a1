import fs from "node:fs";
import path from "node:path";

import { formatIssues, JobSpecSchema } from "@heron/core";
import { Presets, SingleBar } from "cli-progress";
import type { Command } from "commander";

/**
 * `npx heron train <spec.json>` — runs a job in this process, no server needed. It logs to a
 * local run directory (SDK offline mode) that `npx heron sync <dir>` uploads later.
 */
export function register(program: Command) {
  program
    .command("train <spec>")
    .description("run a job locally (no server) with a progress bar; upload later with `heron sync`")
    .option("--project <name>", "project the run belongs to when synced", "local")
    .option("--name <name>", "run name")
    .option("--dir <dir>", "run directory (default $HERON_HOME/runs/<id>)")
    .action(async (file: string, opts: { project: string; name?: string; dir?: string }) => {
      const parsed = JobSpecSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (!parsed.success) {
        console.error(`invalid spec ${file}: ${formatIssues(parsed.error.issues)}`);
        process.exit(2);
      }
      const { runJob, jobContextFromRun } = await import("@heron/core/node");
      const { init } = await import("@heron/sdk");
      const run = await init({ project: opts.project, name: opts.name, mode: "offline", dir: opts.dir, config: parsed.data, captureConsole: false });
      const bar = new SingleBar(
        { format: "{bar} {percentage}% | epoch {epoch}/{epochs} | step {value}/{total} | {rate} samples/s | ETA {eta_formatted}", hideCursor: true },
        Presets.shades_classic,
      );
      let started = false;
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      const home = process.env.HERON_HOME ?? ".heron";
      const ctx = jobContextFromRun(run, {
        checkpointDir: path.resolve(home, "checkpoints", run.id),
        signal: controller.signal,
        onProgress: (p) => {
          if (!started) bar.start(p.totalSteps, p.step, { epoch: p.epoch, epochs: p.epochs, rate: 0 });
          started = true;
          bar.update(p.step, { epoch: p.epoch, epochs: p.epochs, rate: Math.round(p.samplesPerSec) });
        },
      });
      try {
        const result = await runJob(parsed.data, ctx);
        bar.stop();
        await run.finish({ state: controller.signal.aborted ? "aborted" : "finished" });
        console.log(`\n${JSON.stringify(result.summary)}\nrun ${run.id} logged offline — upload it with: npx heron sync ${run.dir ?? ""}`);
      } catch (err) {
        bar.stop();
        await run.finish({ state: "crashed", error: err instanceof Error ? err.message : String(err) });
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
      }
    });
}
