// ESM: `node log-metrics.mjs` (HERON_HOST, HERON_API_KEY; STEPS=<n> to log more)
import { init } from "@heron/sdk";

const steps = Number(process.env.STEPS ?? 100);
const run = await init({ project: process.env.HERON_PROJECT ?? "examples", name: "log-metrics (esm)", config: { lr: 1e-3, steps } });
for (let step = 0; step < steps; step++) {
  run.log({ "train/loss": Math.exp(-step / 1000), "train/acc": 1 - Math.exp(-step / 1000) });
}
await run.finish();
console.log(`logged ${steps} steps: ${run.url}`);
