import fs from "node:fs";

import { formatIssues, TrainSpecSchema } from "@heron/core";
import type { Command } from "commander";

/** `npx heron plan <spec.json>` — the memory breakdown (weights, gradients, optimizer, activations) for a job; batchSize "auto" picks the batch. */
export function register(program: Command) {
  program
    .command("plan <spec>")
    .description("print a job's planned memory (parameters, gradients, optimizer, batch, activations)")
    .action(async (file: string) => {
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
      const parsed = TrainSpecSchema.safeParse(raw);
      if (!parsed.success) {
        console.error(`invalid spec ${file}: ${formatIssues(parsed.error.issues)}`);
        process.exit(2);
      }
      const { planMemory, chooseBatchSize, memoryBudget, formatBytes } = await import("@heron/core/ml");
      const spec = parsed.data;
      if (spec.batchSize === "auto") {
        const budget = memoryBudget();
        const { batchSize, plan } = chooseBatchSize(spec, budget.bytes);
        console.log(plan.table);
        console.log(`\nbatchSize auto → ${batchSize} (largest power of two within 80% of ${formatBytes(budget.bytes)} from ${budget.source})`);
      } else {
        console.log(planMemory(spec).table);
      }
    });
}
