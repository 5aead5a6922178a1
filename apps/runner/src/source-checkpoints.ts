// A distill job's teacher `{runId}`, a fine-tune's base `{runId}` and a pipeline stage's
// earlier stages (`init.jobId`, `init.sources`) are other jobs' checkpoints. The job reads it from `<HERON_HOME>/checkpoints/<thatJobId>/`, which only the
// host that trained it has — so before starting such a job the daemon fetches that job's
// newest checkpoint from the server (under this job's lease; the server serves only the jobs
// this job's spec names). A teacher/base `{artifact, versionId}` is a model artifact of the
// job's project: the daemon downloads its files with the job's token (valid while the lease
// is held) into the artifact cache, `<HERON_HOME>/artifacts/versions/<versionId>/`, each file
// verified by its SHA-256. Then the job runs on any runner.
import fs from "node:fs";

import { ArtifactVersionInfoSchema, IdSchema, type Lease } from "@heron/core";
import { ArtifactHttpError, createArtifactClient, fetchVersion } from "@heron/sdk";

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
  if (ref && typeof ref.r?.jobId === "string")
    out.push({ role: ref.role, runId: typeof ref.r.runId === "string" ? ref.r.runId : null, jobId: ref.r.jobId, required: true });
  const stages = [s?.init?.jobId, ...(Array.isArray(s?.init?.sources) ? (s.init.sources as unknown[]) : [])];
  stages.forEach((jobId, i) => {
    if (typeof jobId === "string" && !out.some((o) => o.jobId === jobId)) out.push({ role: "stage", runId: null, jobId, required: i === 0 });
  });
  return out;
}

export type ArtifactSource = { role: "teacher" | "base"; artifact: string; versionId: string };

/** the model artifact version this spec starts from (`versionId` filled in by job.submit) */
export function artifactSourcesOf(spec: unknown): ArtifactSource[] {
  const s = spec as { kind?: unknown; teacher?: { artifact?: unknown; versionId?: unknown }; base?: { artifact?: unknown; versionId?: unknown } } | null;
  const ref = s?.kind === "distill" ? { role: "teacher" as const, r: s.teacher } : s?.kind === "finetune" ? { role: "base" as const, r: s.base } : null;
  // the id came from the server: it names a folder here, so it must be a plain id
  if (!ref || typeof ref.r?.artifact !== "string" || !IdSchema.safeParse(ref.r.versionId).success) return [];
  return [{ role: ref.role, artifact: ref.r.artifact, versionId: ref.r.versionId as string }];
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
  lease: Pick<Lease, "jobId" | "fencingToken" | "spec"> & Partial<Pick<Lease, "jobToken">>,
  home: string,
  log: (line: string) => void,
  server?: string,
): Promise<string | null> {
  const held = { jobId: lease.jobId, fencingToken: lease.fencingToken };
  for (const src of artifactSourcesOf(lease.spec)) {
    const why = await fetchSourceArtifact(src, lease, home, log, server);
    if (why) return why;
  }
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

/**
 * Downloads a model artifact version's files into the artifact cache (files already there, by
 * digest, are not fetched again). Returns why the job cannot start, or null. The server is
 * asked a few times (1, 2, 4 s apart) before giving up; a copy already on this host is used
 * when it cannot be reached.
 */
async function fetchSourceArtifact(
  src: ArtifactSource,
  lease: Partial<Pick<Lease, "jobToken">>,
  home: string,
  log: (line: string) => void,
  server: string | undefined,
): Promise<string | null> {
  const what = `${src.role} artifact ${src.artifact} (version ${src.versionId})`;
  let root: string;
  let dir: string;
  try {
    root = containedPath(home, "artifacts");
    dir = containedPath(root, "versions", src.versionId);
  } catch (err) {
    return `${what}: ${(err as Error).message}`;
  }
  if (!server || !lease.jobToken) return `${what}: this runner cannot download artifacts (no server URL or job token for the job)`;
  const client = createArtifactClient({ host: server, apiKey: lease.jobToken, retries: 3 });
  let failed: Error | null = null;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    try {
      const v = ArtifactVersionInfoSchema.parse(await client.version(src.versionId));
      if (v.id !== src.versionId) throw new Error(`the server answered version ${v.id.slice(0, 64)} for ${src.versionId}`);
      await serialised(dir, () => fetchVersion(client, v, root));
      const bytes = v.files.reduce((n, f) => n + f.bytes, 0);
      log(`[runner] ${src.role} checkpoint: ${src.artifact} = ${v.name}:v${v.version} (${v.files.length} files, ${bytes} bytes) from the server`);
      return null;
    } catch (err) {
      failed = err as Error;
      // refused or not there (4xx): asking again cannot change that
      if (failed instanceof ArtifactHttpError && failed.status >= 400 && failed.status < 500 && failed.status !== 408 && failed.status !== 429) break;
    }
  }
  if (fs.existsSync(dir)) {
    log(`[runner] could not fetch the ${what} from the server (${failed?.message ?? "unknown error"}); using the copy on this host`);
    return null;
  }
  return `${what}: could not download its files from the server: ${failed?.message ?? "unknown error"}`;
}
