import { describe, expect, it } from "vitest";

import { jobBaseEnv, jobProcessEnv } from "./job-env";

describe("jobBaseEnv", () => {
  const daemonEnv = {
    PATH: "/usr/bin",
    HOME: "/home/runner",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    TZ: "UTC",
    NODE_OPTIONS: "--max-old-space-size=8192",
    CUDA_VISIBLE_DEVICES: "0,1",
    TF_CPP_MIN_LOG_LEVEL: "2",
    LD_LIBRARY_PATH: "/usr/local/cuda/lib64",
    HERON_HOME: "/var/heron",
    HERON_BACKEND: "wasm",
    HTTPS_PROXY: "http://proxy:3128",
    // what a job must never see
    HERON_RUNNER_TOKEN: "hr_secret",
    DATABASE_URL: "postgres://heron:pw@db/heron",
    HERON_BOOTSTRAP_API_KEY: "hk_boot",
    REDIS_URL: "redis://:pw@cache",
    AWS_SECRET_ACCESS_KEY: "aws",
    GITHUB_TOKEN: "ghp",
  };

  it("passes what a job needs and nothing else of the daemon's environment", () => {
    const env = jobBaseEnv(daemonEnv);
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/runner",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      NODE_OPTIONS: "--max-old-space-size=8192",
      CUDA_VISIBLE_DEVICES: "0,1",
      TF_CPP_MIN_LOG_LEVEL: "2",
      LD_LIBRARY_PATH: "/usr/local/cuda/lib64",
      HERON_HOME: "/var/heron",
      HERON_BACKEND: "wasm",
      HTTPS_PROXY: "http://proxy:3128",
    });
  });

  it("the job process's environment: the allowlist plus this attempt's own credentials, never the runner's", () => {
    const lease = {
      jobId: "j1",
      runId: "r1",
      projectName: "p",
      attempt: 2,
      fencingToken: 3,
      expiresAt: 0,
      jobToken: "hj_attempt",
      spec: { kind: "train" },
    } as never;
    const env = jobProcessEnv(daemonEnv, lease, { serverUrl: "http://heron:3000", checkpointDir: "/var/heron/checkpoints/j1" });
    expect(env).toMatchObject({
      HERON_HOST: "http://heron:3000",
      HERON_API_KEY: "hj_attempt",
      HERON_CHECKPOINT_DIR: "/var/heron/checkpoints/j1",
      PATH: "/usr/bin",
    });
    expect(JSON.parse(env.HERON_LEASE!)).toEqual({ jobId: "j1", runId: "r1", projectName: "p", attempt: 2, spec: { kind: "train" } });
    expect(Object.values(env).join(" ")).not.toMatch(/hr_secret|postgres:|hk_boot|redis:|aws|ghp/);
  });
});
