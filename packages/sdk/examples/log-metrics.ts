// TypeScript: `npx tsx log-metrics.ts` (HERON_HOST, HERON_API_KEY; STEPS=<n> to log more)
import { init, type InitOptions, type Run } from "@heron/sdk";

const steps = Number(process.env.STEPS ?? 100);
const options: InitOptions = { project: process.env.HERON_PROJECT ?? "examples", name: "log-metrics (ts)", config: { lr: 1e-3, steps } };
const run: Run = await init(options);
for (let step = 0; step < steps; step++) {
  const loss: number = Math.exp(-step / 1000);
  run.log({ "train/loss": loss, "train/acc": 1 - loss });
}
await run.finish({ timeoutMs: 30_000 });
console.log(`logged ${steps} steps: ${run.url}`);
