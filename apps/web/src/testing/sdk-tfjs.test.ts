// The tfjs example (packages/sdk/examples/tfjs-train.mjs) trains a small model with
// heronCallback against a real server: its curves, the model in the config, the run finished.
import path from "node:path";

import { heronCallback, init } from "@heron/sdk";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "./harness";
import { ROOT, startChild } from "./sdk-helpers";

describe("heronCallback (tfjs)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("the tfjs example's loss and accuracy curves appear per batch (every 4th) and per epoch, with the learning rate and the model in the config", async () => {
    // startChild runs scripts of this folder: the example, relative to it
    const example = path.relative(path.join(ROOT, "apps/web/src/testing"), path.join(ROOT, "packages/sdk/examples/tfjs-train.mjs"));
    const child = startChild(example, [], {
      HERON_HOST: t.server.url,
      HERON_API_KEY: t.key,
      HERON_HOME: path.join(t.home, "client"),
      HERON_PROJECT: "tfjs",
      EPOCHS: "3",
    });
    const [, runId] = await child.waitFor(/trained 3 epochs: \S+\/runs\/(\S+)/, 120_000);
    expect((await child.exited).code).toBe(0);

    const run = await t.api.run.get.query({ runId: runId! });
    // finishOnEnd: the callback finished the run when fit() ended
    expect(run.status).toBe("finished");
    expect(run.keys).toEqual(
      expect.arrayContaining(["batch/loss", "batch/acc", "batch/lr", "epoch/loss", "epoch/acc", "epoch/val_loss", "epoch/val_acc", "epoch/lr", "epoch/epoch"]),
    );
    const config = run.config as {
      epochs: number;
      model: { name: string; params: number; trainableParams: number; optimizer: string; learningRate: number; summary: string };
      fit: Record<string, number>;
    };
    // dense 2→16 (48 weights) + dense 16→1 (17)
    expect(config.model).toMatchObject({ name: "circle-mlp", params: 65, trainableParams: 65, optimizer: "Adam", learningRate: 0.01 });
    expect(config.model.summary).toContain("Total params: 65");
    expect(config.fit).toMatchObject({ epochs: 3, batchSize: 32, samples: 409 }); // 512 less a 0.2 validation split

    const series = (key: string) => t.api.metric.series.query({ runId: runId!, key, maxPoints: 10_000 });
    // 409 training samples / 32 = 13 batches an epoch, 39 in all; every 4th logged
    expect((await series("batch/loss")).steps).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    const epochLoss = await series("epoch/loss");
    expect(epochLoss.steps).toEqual([12, 25, 38]);
    expect(epochLoss.values.every((v) => typeof v === "number" && Number.isFinite(v))).toBe(true);
    expect((await series("epoch/epoch")).values).toEqual([1, 2, 3]);
    expect((await series("batch/lr")).values.every((v) => v === 0.01)).toBe(true);
  });

  it("fitDataset: batch metrics at the cadence, epoch metrics, metrics only when no model is given; the run stays open without finishOnEnd", async () => {
    const run = await init({
      project: "tfjs",
      host: t.server.url,
      apiKey: t.key,
      dir: path.join(t.home, "fit-dataset"),
      captureConsole: false,
      captureSystem: false,
      captureEnvironment: false,
    });
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "meanSquaredError" });
    const xs = tf.data.array(Array.from({ length: 40 }, (_, i) => [i / 40]));
    const ys = tf.data.array(Array.from({ length: 40 }, (_, i) => [(2 * i) / 40]));
    const data = tf.data.zip({ xs, ys }).batch(8); // 5 batches an epoch
    await model.fitDataset(data, { epochs: 2, callbacks: [heronCallback(run, { logEveryNBatches: 3 })] });
    expect((await t.api.run.get.query({ runId: run.id })).status).toBe("running");
    await run.finish();
    const got = await t.api.run.get.query({ runId: run.id });
    expect(got.keys.sort()).toEqual(["batch/loss", "epoch/epoch", "epoch/loss"]);
    expect((got.config as { fit?: unknown; model?: unknown }).model).toBeUndefined();
    expect((await t.api.metric.series.query({ runId: run.id, key: "batch/loss", maxPoints: 100 })).steps).toEqual([0, 3, 6, 9]);
    expect((await t.api.metric.series.query({ runId: run.id, key: "epoch/loss", maxPoints: 100 })).steps).toEqual([4, 9]);
  });
});
