import type { Lease } from "@heron/core";

/**
 * A job's child process gets an allowlist of the daemon's environment, not all of it: the
 * daemon may hold its runner token, and started by `npm start` a database URL and other
 * services' credentials. What passes is what running node, tfjs and the GPU stack needs.
 */
const ALLOWED = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "TZ",
  "TMPDIR",
  "TEMP",
  "TMP",
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "LD_LIBRARY_PATH",
  // read by jobs: where the SDK keeps its write-ahead log, the tfjs backend, the memory planner's budget
  "HERON_HOME",
  "HERON_BACKEND",
  "HERON_MEMORY_BUDGET",
]);
const ALLOWED_PREFIXES = ["LC_", "CUDA_", "NVIDIA_", "TF_", "XLA_", "OMP_"];

export function jobBaseEnv(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // a cast: Next's type augmentation declares NODE_ENV required, which a filtered copy may lack
  const out = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && (ALLOWED.has(k) || ALLOWED_PREFIXES.some((p) => k.startsWith(p)))) out[k] = v;
  return out;
}

/** the full environment of one attempt's job process: the allowlist plus its own lease and job token */
export function jobProcessEnv(
  parent: NodeJS.ProcessEnv,
  lease: Lease,
  ctx: { serverUrl: string; checkpointDir: string; cpuThreads?: number },
): NodeJS.ProcessEnv {
  return {
    ...jobBaseEnv(parent),
    HERON_HOST: ctx.serverUrl,
    HERON_API_KEY: lease.jobToken,
    HERON_LEASE: JSON.stringify({ jobId: lease.jobId, runId: lease.runId, projectName: lease.projectName, attempt: lease.attempt, spec: lease.spec }),
    HERON_CHECKPOINT_DIR: ctx.checkpointDir,
    ...(ctx.cpuThreads ? { HERON_CPU_THREADS: String(ctx.cpuThreads) } : {}),
  };
}
