// The child process that executes ONE job attempt. Spawned by the runner daemon with:
//   HERON_HOST, HERON_API_KEY (this attempt's job token), HERON_LEASE (json), HERON_CHECKPOINT_DIR,
// and an IPC channel to the daemon. It logs through the tracking SDK exactly like a user's
// own script would. Exit codes: 0 done, 1 the job failed, 3 stopped by SIGTERM (cancel/drain).
import os from "node:os";

import { JobSpecSchema } from "@heron/core";
import { jobContextFromRun, latestCheckpointStep, runJob } from "@heron/core/node";
import { init } from "@heron/sdk";

import { type DaemonToJob, EXIT_FAILED, EXIT_STOPPED, type JobToDaemon } from "./executor";

type LeaseEnv = { jobId: string; runId: string; projectName: string; attempt: number; spec: unknown };

/** Asks the daemon (which holds the lease's fencing token) to rewind the run. */
function rewindThroughDaemon(step: number): Promise<void> {
  if (!process.send) return Promise.reject(new Error("no daemon to rewind through (not started by a runner)"));
  const id = Math.floor(Math.random() * 2 ** 31);
  return new Promise((resolve, reject) => {
    const onMessage = (m: DaemonToJob) => {
      if (m?.type !== "rewound" || m.id !== id) return;
      process.off("message", onMessage);
      if (m.error) reject(new Error(`rewind refused: ${m.error}`));
      else resolve();
    };
    process.on("message", onMessage);
    process.send!({ type: "rewind", id, step } satisfies JobToDaemon);
  });
}

async function main() {
  const lease = JSON.parse(process.env.HERON_LEASE ?? "null") as LeaseEnv | null;
  if (!lease) throw new Error("HERON_LEASE is missing: job-process is started by the runner daemon");
  const spec = JobSpecSchema.parse(lease.spec);
  const controller = new AbortController();
  let stopped = false;
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      stopped = true;
      controller.abort();
    });
  }
  // our daemon died (its host is going down or it was killed): nobody can report for this
  // attempt and its lease will expire, so stop instead of computing into the void
  process.on("disconnect", () => {
    console.error("[heron] runner daemon gone; stopping");
    process.exit(EXIT_STOPPED);
  });
  const checkpointDir = process.env.HERON_CHECKPOINT_DIR ?? `${os.tmpdir()}/heron-ckpt-${lease.jobId}`;
  const run = await init({
    project: lease.projectName,
    id: lease.runId,
    resume: "allow",
    config: spec,
    environment: {
      hostname: os.hostname(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      memoryBytes: os.totalmem(),
      jobId: lease.jobId,
      attempt: lease.attempt,
    },
  });
  console.log(`[heron] job ${lease.jobId} attempt ${lease.attempt} → run ${run.id}`);
  const ctx = jobContextFromRun(run, {
    checkpointDir,
    signal: controller.signal,
    rewind: rewindThroughDaemon,
    // progress goes to the job log (stdout, forwarded by the daemon), not into the run as metrics
    progressMetrics: false,
    onProgress: (p) =>
      console.log(`[progress] epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} ${p.samplesPerSec.toFixed(0)} samples/s ETA ${p.etaSec.toFixed(0)}s`),
  });
  if (lease.attempt > 1) {
    // a later attempt continues the same run from its checkpoint (or from scratch): points the
    // lost attempt logged after that step are dropped so the charts continue without a fork
    const step = latestCheckpointStep(checkpointDir) ?? 0;
    // what an earlier attempt on this host left unsent must be on the server before the rewind,
    // or its points after `step` would land later and win over this attempt's
    await run.leftoversUploaded();
    await ctx.rewind!(step);
    console.log(`[heron] attempt ${lease.attempt} resumes the run after step ${step}`);
  }
  try {
    await runJob(spec, ctx);
    await run.finish({ state: stopped ? "aborted" : "finished" });
    if (stopped) process.exitCode = EXIT_STOPPED;
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(message);
    await run.finish({ state: stopped ? "aborted" : "crashed", error: message.slice(0, 10_000) }).catch(() => undefined);
    process.exitCode = stopped ? EXIT_STOPPED : EXIT_FAILED;
  }
}

main().then(
  () => setTimeout(() => process.exit(), 100).unref(),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(EXIT_FAILED);
  },
);
