// CommonJS: `node log-metrics.cjs` (HERON_HOST, HERON_API_KEY; STEPS=<n> to log more).
// No top-level await in CommonJS: the script runs in an async main.
const { init } = require("@heron/sdk");

async function main() {
  const steps = Number(process.env.STEPS ?? 100);
  const run = await init({ project: process.env.HERON_PROJECT ?? "examples", name: "log-metrics (cjs)", config: { lr: 1e-3, steps } });
  for (let step = 0; step < steps; step++) {
    run.log({ "train/loss": Math.exp(-step / 1000), "train/acc": 1 - Math.exp(-step / 1000) });
  }
  await run.finish();
  console.log(`logged ${steps} steps: ${run.url}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
