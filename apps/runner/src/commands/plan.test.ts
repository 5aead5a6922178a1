// `heron plan` prints seed 000's four parts, the planned total and the backend's measured peak;
// batchSize "auto" never exceeds the training set.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";

import { register } from "./plan";

async function plan(spec: unknown, ...flags: string[]): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "heron-plan-")), "spec.json");
  fs.writeFileSync(file, JSON.stringify(spec));
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  try {
    const program = new Command("heron").exitOverride();
    register(program);
    await program.parseAsync(["plan", ...flags, file], { from: "user" });
  } finally {
    log.mockRestore();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  return lines.join("\n");
}

const spec = { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 1, lr: 0.001 };

describe("heron plan", () => {
  afterEach(() => {
    delete process.env.HERON_MEMORY_BUDGET;
  });

  it("prints the four parts with units, the planned total and the measured peak of one step", async () => {
    const out = await plan({ ...spec, batchSize: 64 });
    for (const part of ["params + grads", "optimizer state", "batch", "activations", "planned total"])
      expect(out).toMatch(new RegExp(`^${part.replace("+", "\\+")}\\s+[\\d.]+ (B|KiB|MiB|GiB)\\b`, "m"));
    expect(out).toMatch(/^measured peak\s+[\d.]+ (KiB|MiB)\s+\(\d+% of the plan; backend, one step\)$/m);
    expect(out).toMatch(/batch 64 on \w+/);
  });

  it("batchSize auto with room for more picks the whole MNIST training set, not 65,536", async () => {
    process.env.HERON_MEMORY_BUDGET = "1TiB";
    const out = await plan({ ...spec, batchSize: "auto" }, "--no-measure");
    expect(out).toMatch(/batchSize auto → 60000 \(the whole training set: 60,000 samples fit\)/);
    expect(out).not.toMatch(/measured peak/);
    const capped = await plan({ ...spec, batchSize: "auto", maxTrainSamples: 1000 }, "--no-measure");
    expect(capped).toMatch(/batchSize auto → 1000 /);
  });
});
