// The mini VLM's stages on the data-parallel replicas: encoder, pretrain and sft on 2 threads
// follow the 1-thread loss curves, the frozen encoder stays bit-identical to its stage's
// checkpoint, a stopped 2-thread sft resumes to the same weights as an uninterrupted one, and
// an sft that trains the encoder too (pixels to the replicas) follows 1 thread as well.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

import { runJob } from "../../jobs/run-job";
import { expandVlmRecipe } from "../../jobs/vlm-recipe";
import type { VlmSpecInput, VlmStageSpec } from "../../schemas/vlm-spec";
import { selectBackend } from "../backend";
import { loadLatestCheckpoint } from "../checkpoint";
import { type FakeCtx, fakeCtx, maxAbsDiff } from "../test-helpers";

// 36 images in batches of 16: micro-batches of 16, 16 and 4 rows (2 per replica). Fashion-MNIST:
// its captions differ in length ("a bag", "an ankle boot"), so pretrain's shards hold different
// shares of the answer tokens than of the rows
const tiny: VlmSpecInput = {
  kind: "vlm",
  dataset: "fashion-mnist",
  maxTrainSamples: 36,
  maxTestSamples: 8,
  seed: 4,
  encoder: { channels: [4, 8] },
  lm: { dModel: 16, layers: 2, heads: 2 },
  patchPool: 2,
  encoderStage: { epochs: 2, batchSize: 16 },
  pretrainStage: { epochs: 1, batchSize: 16 },
  sftStage: { epochs: 2, batchSize: 16 },
  samples: 0,
  logEvery: 1,
  checkpointEvery: 2,
};
const stages = expandVlmRecipe(tiny).stages;
const root = mkdtempSync(join(tmpdir(), "heron-vlm-parallel-"));

/** stage `i` of the recipe, started from the 1-thread runs' folders (`job-<stage>`) as a runner would */
function stageSpec(i: number, o: Partial<VlmStageSpec> = {}): VlmStageSpec {
  const st = stages[i]!;
  const sources = stages.slice(0, i).map((s) => `job-${s.name}`);
  return { ...st.spec, init: st.init ? { ...st.init, jobId: `job-${st.init.fromStage}`, sources } : undefined, ...o };
}

const series = (c: FakeCtx, key: string) => c.logs.filter((l) => key in l.metrics).map((l) => l.metrics[key]!);
const weights = (dir: string) => loadLatestCheckpoint(join(root, dir))!.weights;

/** max relative difference of two loss curves of equal length */
function curveGap(a: number[], b: number[]): number {
  expect(a.length).toBeGreaterThan(0);
  expect(b).toHaveLength(a.length);
  return Math.max(...a.map((v, i) => Math.abs(b[i]! - v) / Math.abs(v)));
}

/** runs stage `i` on 1 thread (in `job-<stage>` unless `oneDir`) and on 2 (in `<stage>-2`); checks logs and loss curves */
async function oneVsTwo(i: number, steps: number, o: Partial<VlmStageSpec> = {}, oneDir?: string): Promise<{ one: FakeCtx; two: FakeCtx }> {
  const name = stages[i]!.name;
  const one = fakeCtx({ dir: join(root, oneDir ?? `job-${name}`) });
  const two = fakeCtx({ dir: join(root, `${oneDir ?? name}-2`) });
  await runJob(stageSpec(i, { ...o, threads: 1 }), one);
  await runJob(stageSpec(i, { ...o, threads: 2 }), two);
  expect(two.infos.join("\n")).toMatch(new RegExp(`^${name}: threads: 2 \\(2 asked\\)$`, "m"));
  expect(two.summary.threads).toBe(2);
  expect(series(two, "train/loss")).toHaveLength(steps);
  // measured here (float summation order only): encoder ≤ 1.2e-7, pretrain ≤ 1.2e-7, sft ≤ 1.9e-7
  // (encoder frozen or training); with shards weighted by rows instead of answer tokens,
  // pretrain 3.0e-5 and sft 4.0e-4
  expect(curveGap(series(one, "train/loss"), series(two, "train/loss"))).toBeLessThan(1e-5);
  return { one, two };
}

/** every encoder tensor of `dir`'s last checkpoint equals the encoder stage's, bit for bit */
function expectEncoderFrozen(dir: string): void {
  const enc = weights("job-encoder");
  const w = weights(dir);
  const names = Object.keys(enc).filter((n) => n.startsWith("encoder."));
  expect(names.length).toBeGreaterThan(0);
  for (const n of names) expect(maxAbsDiff(w[n]!, enc[n]!), n).toBe(0);
}

beforeAll(async () => {
  await selectBackend({ force: "wasm" });
});

describe("vlm stages on 2 threads", () => {
  it("the encoder stage follows the 1-thread loss curve", async () => {
    await oneVsTwo(0, 6);
  });

  it("pretrain follows 1 thread; the frozen encoder stays bit-identical", async () => {
    await oneVsTwo(1, 3);
    expectEncoderFrozen("pretrain-2");
  });

  it("sft follows 1 thread with the encoder frozen; a stopped 2-thread sft resumes bit-identical", async () => {
    await oneVsTwo(2, 6);
    expectEncoderFrozen("sft-2");
    const dir = join(root, "sft-split");
    const first = fakeCtx({ dir, onLog: (step, m, c) => step === 3 && "train/loss" in m && c.abort.abort() });
    expect((await runJob(stageSpec(2, { threads: 2 }), first)).summary.stopped).toBe("aborted");
    expect(loadLatestCheckpoint(dir)!.step).toBe(3);
    const second = fakeCtx({ dir });
    await runJob(stageSpec(2, { threads: 2 }), second);
    expect(second.infos.join("\n")).toMatch(/resumed from checkpoint at step 3/);
    expect(second.infos.join("\n")).not.toMatch(/resuming on/);
    const ref = weights("sft-2");
    const resumed = weights("sft-split");
    expect(Object.keys(resumed).sort()).toEqual(Object.keys(ref).sort());
    for (const [n, w] of Object.entries(ref)) expect(maxAbsDiff(resumed[n]!, w), n).toBe(0);
  });

  it("an sft that trains the encoder too (its pixels go to the replicas) follows 1 thread", async () => {
    await oneVsTwo(2, 6, { freeze: undefined }, "sft-all");
    // the replicas' encoder gradients reached the optimizer: its weights moved off the encoder stage's
    expect(maxAbsDiff(weights("sft-all-2")["encoder.conv1.weight"]!, weights("job-encoder")["encoder.conv1.weight"]!)).toBeGreaterThan(0);
  });
});
