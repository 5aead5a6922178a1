// The child process that executes ONE job attempt. Spawned by the runner daemon with:
//   HERON_HOST, HERON_API_KEY (this attempt's job token), HERON_LEASE (json), HERON_CHECKPOINT_DIR.
// It logs through the tracking SDK exactly like a user's own script would.
import os from "node:os";
import { JobSpecSchema, type JobContext } from "@heron/core";
import { init, runJob } from "@heron/core/node";

type LeaseEnv = { jobId: string; runId: string; projectName: string; attempt: number; spec: unknown };

async function main() {
  const lease = JSON.parse(process.env.HERON_LEASE ?? "null") as LeaseEnv | null;
  if (!lease) throw new Error("HERON_LEASE is missing: job-process is started by the runner daemon");
  const spec = JobSpecSchema.parse(lease.spec);
  const controller = new AbortController();
  let signalled: "aborted" | null = null;
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      signalled = "aborted";
      controller.abort();
    });
  }
  const run = await init({
    project: lease.projectName,
    id: lease.runId,
    resume: "allow",
    config: spec as unknown as Record<string, unknown>,
    environment: { hostname: os.hostname(), node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, memoryBytes: os.totalmem(), jobId: lease.jobId, attempt: lease.attempt },
  });
  console.log(`[heron] job ${lease.jobId} attempt ${lease.attempt} → run ${run.id}`);
  const ctx: JobContext = {
    log: (metrics, step) => run.log(metrics, { step }),
    logText: () => undefined,
    progress: (p) => console.log(`[progress] epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} ${p.samplesPerSec.toFixed(0)} samples/s ETA ${p.etaSec.toFixed(0)}s`),
    setSummary: (values) => Object.assign(run.summary, values),
    info: (m) => console.log(m),
    warn: (m) => console.warn(`[warn] ${m}`),
    checkpointDir: process.env.HERON_CHECKPOINT_DIR ?? `${os.tmpdir()}/heron-ckpt-${lease.jobId}`,
    signal: controller.signal,
  };
  try {
    await runJob(spec, ctx);
    await run.finish({ state: signalled ?? "finished" });
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(message);
    await run.finish({ state: signalled ?? "crashed", error: message.slice(0, 10_000) }).catch(() => undefined);
    process.exitCode = signalled ? 0 : 1;
  }
}

main().then(
  () => setTimeout(() => process.exit(), 100).unref(),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
