// A fake executor for pipeline stages, for tests where the ML is not the point: it records
// what each stage saw of its sources and writes a checkpoint folder like the trainer's, so
// stages exchange checkpoints through the server as real ones do.
import fs from "node:fs";
import path from "node:path";

import type { Lease } from "@heron/core";
import { createFakeExecutor } from "@heron/runner";

/** what the fake stage does, chosen by its spec's learning rate */
export const FAIL_LR = 0.0666;
export const HOLD_LR = 0.0777;

export type SeenStage = { jobId: string; stage: Record<string, unknown>; startedAt: number; home: string; sourceSteps: Record<string, string[]> };

/**
 * Writes a checkpoint folder like the trainer's (meta.json, a manifest naming the tensors, a
 * weights file; a stage that starts from another leaves `layer1.weight` out and points at the
 * source), then runs the fast fake job. `FAIL_LR` exits 1 with a reason; `HOLD_LR` runs until stopped.
 */
export function stageExecutor(home: string, seen: SeenStage[]) {
  const quick = createFakeExecutor({ durationMs: 150 });
  const hold = createFakeExecutor({ durationMs: 3_600_000 });
  return {
    start(lease: Lease, ctx: Parameters<typeof quick.start>[1]) {
      const spec = lease.spec as Record<string, unknown> & { init?: { jobId?: string; sources?: string[] } };
      const sources = [...new Set([spec.init?.jobId, ...(spec.init?.sources ?? [])].filter((x): x is string => !!x))];
      const sourceSteps = Object.fromEntries(sources.map((id) => [id, fs.readdirSync(path.join(home, "checkpoints", id))]));
      seen.push({ jobId: lease.jobId, stage: spec, startedAt: Date.now(), home, sourceSteps });
      if (spec.lr === FAIL_LR) {
        ctx.onLog("stderr", "boom: the loss went to NaN");
        return { kill: () => undefined, done: Promise.resolve({ exitCode: 1, signal: null }) };
      }
      const dir = path.join(ctx.checkpointDir, "ckpt-000000010");
      fs.mkdirSync(dir, { recursive: true });
      const from = spec.init?.jobId;
      // mlp-mnist's names and shapes, which the pipelines' submit-time checks hold stages to
      const tensors = [
        { name: "layer1.weight", shape: [784, 128], ...(from ? { ref: { jobId: from, step: 10 } } : {}) },
        { name: "layer2.weight", shape: [128, 10] },
      ];
      fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ version: 1, step: 10, model: "fake", tensors }));
      fs.writeFileSync(path.join(dir, "tensors.bin"), Buffer.alloc(from ? 128 : 272, 1));
      fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ version: 1, step: 10 }));
      return (spec.lr === HOLD_LR ? hold : quick).start(lease, ctx);
    },
  };
}
