import fs from "node:fs";

import { formatIssues, TrainSpecSchema } from "@heron/core";
import type { Command } from "commander";

/**
 * `npx heron plan <spec.json>` — where a train job's memory goes, in seed 000's four parts
 * (params + grads, optimizer state, batch, activations), the planned total, and the
 * backend's measured peak of one real training step (skip it with --no-measure: a large
 * model at a large batch takes a while). batchSize "auto" picks the batch, never more than
 * the training set.
 */
export function register(program: Command) {
  program
    .command("plan <spec>")
    .description("print a train job's planned memory (params + grads, optimizer state, batch, activations), the total and the measured peak of one step")
    .option("--no-measure", "print the plan only, without running one training step to measure the backend's peak")
    .action(async (file: string, opts: { measure: boolean }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        console.error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
      }
      const parsed = TrainSpecSchema.safeParse(raw);
      if (!parsed.success) {
        console.error(`invalid spec ${file}: ${formatIssues(parsed.error.issues)}`);
        process.exit(2);
      }
      const ml = await import("@heron/core/ml");
      const spec = parsed.data;
      const inputShape = ml.DATASET_INPUT_SHAPES[spec.dataset] ?? [28, 28, 1];
      const trainSamples = Math.min(ml.DATASET_TRAIN_SIZES[spec.dataset] ?? Infinity, spec.maxTrainSamples ?? Infinity);
      let plan;
      let note = "";
      if (spec.batchSize === "auto") {
        const budget = ml.memoryBudget();
        plan = ml.chooseBatchSize(spec, budget.bytes, { inputShape, trainSamples }).plan;
        const why =
          plan.batchSize === trainSamples
            ? `the whole training set: ${trainSamples.toLocaleString("en-US")} samples fit`
            : `largest power of two within 80% of ${ml.formatBytes(budget.bytes)} from ${budget.source}`;
        note = `batchSize auto → ${plan.batchSize} (${why})`;
      } else plan = ml.planMemory(spec, { inputShape });
      let peak: number | undefined;
      let backend = "";
      if (opts.measure) {
        const m = await ml.measureStepPeak(spec, { batchSize: plan.batchSize, inputShape });
        peak = m.peakBytes;
        backend = ` on ${m.backend}`;
      }
      console.log(
        ml.memoryTable(
          `memory plan: ${spec.model} on ${spec.dataset}, ${plan.paramCount.toLocaleString("en-US")} params, batch ${plan.batchSize}${backend}`,
          plan,
          peak,
        ),
      );
      if (note) console.log(`\n${note}`);
    });
}
