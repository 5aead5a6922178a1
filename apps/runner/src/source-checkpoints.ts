// A distill job's teacher `{runId}`, a fine-tune's base `{runId}` and a pipeline stage's
// earlier stages (`init.jobId`, `init.sources`) are other jobs' checkpoints. The job reads it from `<HERON_HOME>/checkpoints/<thatJobId>/`, which only the
// host that trained it has — so before starting such a job the daemon fetches that job's
// newest checkpoint from the server (under this job's lease; the server serves only the jobs
// this job's spec names). Then the job runs on any runner.
import type { Lease } from "@heron/core";

import { downloadLatestCheckpoint, type Emit, isRefusal, latestLocalStep } from "./checkpoint-sync";
import { containedPath } from "./contained-path";

/**
 * `stage`: an earlier pipeline stage (its run is not named in the spec). `required`: the job
 * cannot start without it — the teacher/base, the stage named by `init.fromStage`; other
 * earlier stages are fetched when they stored a checkpoint (frozen tensors may point into it).
 */
export type CheckpointSource = { role: "teacher" | "base" | "stage"; runId: string | null; jobId: string; required: boolean };

type SourceSpec = {
  kind?: unknown;
  teacher?: { runId?: unknown; jobId?: unknown };
  base?: { runId?: unknown; jobId?: unknown };
  init?: { jobId?: unknown; sources?: unknown };
} | null;

/**
 * The other jobs whose checkpoint this spec starts from (`jobId`s filled in by the server:
 * job.submit for a teacher/base, the pipeline for a stage's `init.jobId` — the stage it
 * starts from — and `init.sources` — every earlier stage, since frozen tensors a stage's
 * checkpoint leaves out are read from the earlier checkpoint that holds them, also when the
 * stage resumes on another host). The server applies the same rule
 * (services/job-checkpoints.ts) to authorise the download.
 */
export function checkpointSourcesOf(spec: unknown): CheckpointSource[] {
  const s = spec as SourceSpec;
  const out: CheckpointSource[] = [];
  const ref = s?.kind === "distill" ? { role: "teacher" as const, r: s.teacher } : s?.kind === "finetune" ? { role: "base" as const, r: s.base } : null;
  if (ref && typeof ref.r?.jobId === "string") out.push({ role: ref.role, runId: String(ref.r.runId), jobId: ref.r.jobId, required: true });
  const stages = [s?.init?.jobId, ...(Array.isArray(s?.init?.sources) ? (s.init.sources as unknown[]) : [])];
  stages.forEach((jobId, i) => {
    if (typeof jobId === "string" && !out.some((o) => o.jobId === jobId)) out.push({ role: "stage", runId: null, jobId, required: i === 0 });
  });
  return out;
}

/** one download per folder at a time: jobs of this daemon sharing a teacher fetch it once */
const inFlight = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const next = (inFlight.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = next.catch(() => undefined);
  inFlight.set(key, settled);
  void settled.then(() => inFlight.get(key) === settled && inFlight.delete(key));
  return next;
}

/**
 * Makes each source checkpoint available under `<home>/checkpoints/<sourceJobId>/`.
 * Returns why the job cannot start (no checkpoint on the server nor on this host), or null.
 * A server that cannot be asked is not fatal: the job then uses what this host has.
 */
export async function fetchSourceCheckpoints(
  emit: Emit,
  lease: Pick<Lease, "jobId" | "fencingToken" | "spec">,
  home: string,
  log: (line: string) => void,
): Promise<string | null> {
  const held = { jobId: lease.jobId, fencingToken: lease.fencingToken };
  for (const src of checkpointSourcesOf(lease.spec)) {
    const what = src.runId ? `${src.role} run ${src.runId} (job ${src.jobId})` : `${src.role} job ${src.jobId}`;
    let dir: string;
    try {
      dir = containedPath(home, "checkpoints", src.jobId);
    } catch (err) {
      return `${what}: ${(err as Error).message}`;
    }
    let got: number | null = null;
    let failed: Error | null = null;
    // a network blip must not fail the job for good: a few tries (1, 2, 4 s) before falling
    // back to what this host has
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
      try {
        got = await serialised(dir, () => downloadLatestCheckpoint(emit, held, dir, src.jobId));
        failed = null;
        break;
      } catch (err) {
        failed = err as Error;
        // the server answered "no": retrying cannot change that (a lost lease, a refused source)
        if (isRefusal(failed)) break;
      }
    }
    if (failed) {
      log(`[runner] could not fetch the ${what} checkpoint from the server (${failed.message}); using what this host has`);
      continue;
    }
    const local = latestLocalStep(dir);
    if (got !== null) log(`[runner] ${src.role} checkpoint: downloaded step ${got} of ${what} from the server`);
    else if (local !== null) log(`[runner] ${src.role} checkpoint: step ${local} of ${what} is already on this host`);
    else if (!src.required) log(`[runner] ${what} stored no checkpoint; nothing to fetch from it`);
    else return `${what} has no checkpoint on the server (nor on this runner's host): its job stored none, so there is nothing to start from`;
  }
  return null;
}
