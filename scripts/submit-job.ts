// Submit a job through tRPC, wait for it, print the run's final metrics.
//   HERON_API_KEY=<key> npx tsx scripts/submit-job.ts [--host URL] [--project demo] [--spec '<json>'] [--timeout 600]
import { parseArgs } from "node:util";

import type { AppRouter } from "@heron/web/router";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: process.env.HERON_HOST ?? "http://localhost:3000" },
    project: { type: "string", default: "demo" },
    spec: { type: "string", default: JSON.stringify({ kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 1, batchSize: 64, lr: 0.001 }) },
    timeout: { type: "string", default: "600" },
  },
});
const key = process.env.HERON_API_KEY;
if (!key) {
  console.error("set HERON_API_KEY (e.g. the HERON_BOOTSTRAP_API_KEY the server was started with)");
  process.exit(2);
}

const heron = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: `${values.host}/api/trpc`, transformer: superjson, headers: { authorization: `Bearer ${key}` } })],
});

const projects = await heron.project.list.query();
if (!projects.some((p) => p.name === values.project)) await heron.project.create.mutate({ name: values.project });
const { jobId } = await heron.job.submit.mutate({ projectId: values.project, spec: JSON.parse(values.spec) });
console.log(`submitted job ${jobId}`);

const deadline = Date.now() + Number(values.timeout) * 1000;
let last = "";
for (;;) {
  const job = await heron.job.get.query({ jobId });
  if (job.status !== last) console.log(`job ${jobId}: ${(last = job.status)}${job.runId ? ` (run ${values.host}/runs/${job.runId})` : ""}`);
  if (["succeeded", "failed", "cancelled"].includes(job.status)) {
    if (job.error) console.log(job.error);
    if (job.runId) {
      const run = await heron.run.get.query({ runId: job.runId });
      console.log(`run ${run.name} is ${run.status}; final metrics:`);
      for (const [k, s] of Object.entries(run.metrics).sort()) console.log(`  ${k.padEnd(24)} ${s.last}`);
    }
    process.exit(job.status === "succeeded" ? 0 : 1);
  }
  if (Date.now() > deadline) {
    console.error("timed out waiting for the job");
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
