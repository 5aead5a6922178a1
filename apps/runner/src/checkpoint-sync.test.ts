// The final checkpoint upload of an ended job is retried, not given up after one failure —
// except when the lease is gone (a newer attempt owns the job: no retry can succeed).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { CheckpointUploader, type Emit } from "./checkpoint-sync";

describe("CheckpointUploader.syncFinal", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const jobDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-ckpt-"));
    dirs.push(dir);
    const ck = path.join(dir, "ckpt-000000005");
    fs.mkdirSync(ck);
    fs.writeFileSync(path.join(ck, "weights.bin"), Buffer.alloc(64, 7));
    fs.writeFileSync(path.join(ck, "meta.json"), "{}");
    return dir;
  };
  const lease = { jobId: "job", fencingToken: 1 };

  it("retries a failing upload until the server holds the checkpoint", async () => {
    const calls: string[] = [];
    let failures = 2;
    const emit = (async (event: string) => {
      calls.push(event);
      if (event === "job:checkpoint:commit" && failures-- > 0) return { ok: false, error: "server unavailable" };
      return { ok: true };
    }) as Emit;
    const errors: string[] = [];
    const up = new CheckpointUploader(emit, lease, jobDir(), null, (e) => errors.push(e.message));
    expect(up.behind()).toBe(true);
    await up.syncFinal(4);
    expect(up.behind()).toBe(false);
    expect(calls.filter((c) => c === "job:checkpoint:commit")).toHaveLength(3);
    expect(errors).toHaveLength(2);
  }, 20_000);

  it("stops at once when the lease is stale", async () => {
    let commits = 0;
    const emit = (async (event: string) => {
      if (event === "job:checkpoint:commit") commits++;
      return event === "job:checkpoint:commit"
        ? { ok: false, error: "stale fencing token for job job: this runner does not hold its current lease" }
        : { ok: true };
    }) as Emit;
    const up = new CheckpointUploader(emit, lease, jobDir(), null, () => undefined);
    await up.syncFinal(4);
    expect(commits).toBe(1);
    expect(up.behind()).toBe(true);
  });
});
