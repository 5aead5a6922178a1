// tfjs training with heronCallback: `node tfjs-train.mjs` (HERON_HOST, HERON_API_KEY).
// Needs @tensorflow/tfjs (or @tensorflow/tfjs-node, used when installed).
import { heronCallback, init } from "@heron/sdk";

const tf = await import("@tensorflow/tfjs-node").catch(() => import("@tensorflow/tfjs"));
const epochs = Number(process.env.EPOCHS ?? 3);

// a small classifier on a synthetic task: is the point inside the unit circle?
const n = 512;
const xs = tf.randomUniform([n, 2], -1.5, 1.5, "float32", 7);
const ys = tf.tidy(() => xs.square().sum(1, true).less(1).cast("float32"));

const model = tf.sequential({ name: "circle-mlp" });
model.add(tf.layers.dense({ inputShape: [2], units: 16, activation: "relu" }));
model.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
model.compile({ optimizer: tf.train.adam(0.01), loss: "binaryCrossentropy", metrics: ["accuracy"] });

const run = await init({ project: process.env.HERON_PROJECT ?? "examples", name: "tfjs circle", config: { epochs, samples: n } });
await model.fit(xs, ys, {
  epochs,
  batchSize: 32,
  validationSplit: 0.2,
  // batch metrics every 4 batches, epoch metrics every epoch, the model's summary and learning
  // rate; finishes the run at the end
  callbacks: heronCallback(run, { model, logEveryNBatches: 4, finishOnEnd: true }),
});
console.log(`trained ${epochs} epochs: ${run.url}`);
