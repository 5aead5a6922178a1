import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type RunnerProcess, spawnRunner } from "@heron/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../testing/harness";
import { createClientVenv } from "../../testing/python-env";

// Command jobs (kind "command"): a user's Python script, run by a runner started with
// --allow-commands, logging to the job's run through heron-client (installed in a fresh venv).
const SCRIPT = `
import os, sys, time, heron
run = heron.init(capture_system=False)
resume = os.environ.get("HERON_RESUME") == "1"
open(os.path.join(os.getcwd(), "pid-%s" % os.environ.get("HERON_RESUME", "0")), "w").write(str(os.getpid()))
print("attempt resume=%s run=%s" % (int(resume), run.id), flush=True)
n, delay = int(sys.argv[1]), float(sys.argv[2])
start = 1000 if resume else 0
for i in range(start, start + n):
    heron.log({"cmd/loss": 1.0 / (i + 1)}, step=i)
    time.sleep(delay)
print("done logging", flush=True)
heron.finish()
`;

let t: TestServer;
let dir: string;
let venv: Awaited<ReturnType<typeof createClientVenv>>;
let token: string;
const runners: RunnerProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-cmd-"));
  fs.writeFileSync(path.join(dir, "script.py"), SCRIPT);
  [t, venv] = await Promise.all([startTestServer("sqlite", { HERON_LEASE_TTL_S: 3 }), createClientVenv()]);
  await t.api.project.create.mutate({ name: "cmd-jobs" });
  token = (await t.api.runner.createToken.mutate({ name: "cmd", queues: ["default"] })).token;
}, 120_000);
afterAll(async () => {
  for (const r of runners) r.child.kill("SIGKILL");
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (venv && "dir" in venv) fs.rmSync(venv.dir, { recursive: true, force: true });
});

function runner(name: string, allowCommands = true) {
  const r = spawnRunner({ server: t.server.url, token, name, home: path.join(dir, name), allowCommands });
  runners.push(r);
  return r;
}

async function submit(args: string[]) {
  if ("skip" in venv) throw new Error("unreachable");
  const { jobId } = await t.api.job.submit.mutate({
    projectId: "cmd-jobs",
    spec: { kind: "command", command: [venv.python, path.join(dir, "script.py"), ...args] },
  });
  return jobId;
}

const job = (jobId: string) => t.api.job.get.query({ jobId });

describe("command jobs", () => {
  it("waits with a reason until a runner allows commands, then shows the script's curves and stdout in its run", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    const plain = runner("plain", false);
    await plain.registered;
    const jobId = await submit(["50", "0.001"]);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await job(jobId)).status).toBe("queued");
    expect(JSON.stringify(await t.api.job.events.query({ jobId }))).toContain("--allow-commands");
    plain.child.kill("SIGKILL");

    await runner("cmd-a").registered;
    const done = await waitFor(
      async () => {
        const j = await job(jobId);
        return j.status !== "queued" && j.status !== "running" && j;
      },
      60_000,
      "the command job to end",
    );
    expect(done.status).toBe("succeeded");
    const series = await t.api.metric.series.query({ runId: done.runId!, key: "cmd/loss", maxPoints: 1000 });
    expect(JSON.stringify(series)).toContain("0.02"); // 1 / 50
    const logs = JSON.stringify(await t.api.run.logs.query({ runId: done.runId! }));
    expect(logs).toContain("attempt resume=0");
    expect(logs).toContain("done logging");
    expect((await t.api.run.get.query({ runId: done.runId! })).status).toBe("finished");
  }, 90_000);

  it("stops the process within 5 s when cancelled", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    const jobId = await submit(["100000", "0.05"]);
    await waitFor(async () => (await job(jobId)).status === "running", 30_000, "the job to start");
    await new Promise((r) => setTimeout(r, 1000));
    const asked = Date.now();
    await t.api.job.cancel.mutate({ jobId });
    await waitFor(async () => (await job(jobId)).status === "cancelled", 10_000, "the job to be cancelled");
    expect(Date.now() - asked).toBeLessThan(5000);
  }, 60_000);

  it("requeues it when its runner dies; the second attempt continues the same run with HERON_RESUME=1", async (ctx) => {
    if ("skip" in venv) return ctx.skip(venv.skip);
    for (const r of runners) r.child.kill("SIGKILL");
    const a = runner("cmd-b");
    await a.registered;
    const jobId = await submit(["60", "0.05"]);
    const first = await waitFor(
      async () => {
        const j = await job(jobId);
        return j.status === "running" && j.runId ? j : null;
      },
      30_000,
      "the first attempt",
    );
    await new Promise((r) => setTimeout(r, 1500));
    a.child.kill("SIGKILL");
    // the host died: its processes die with it (a runner killed alone leaves its command running)
    const pidFile = path.join(dir, "cmd-b", "work", jobId, "pid-0");
    process.kill(Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
    await runner("cmd-c").registered;
    const done = await waitFor(
      async () => {
        const j = await job(jobId);
        return j.status === "succeeded" || j.status === "failed" ? j : null;
      },
      60_000,
      "the second attempt to end",
    );
    expect(done.status).toBe("succeeded");
    expect(done.runId).toBe(first.runId);
    expect(done.attempts).toBe(2);
    const logs = JSON.stringify(await t.api.run.logs.query({ runId: done.runId! }));
    expect(logs).toContain("attempt resume=1");
    const series = JSON.stringify(await t.api.metric.series.query({ runId: done.runId!, key: "cmd/loss", maxPoints: 1000 }));
    expect(series).toContain("1059"); // the second attempt's last step
  }, 120_000);
});
