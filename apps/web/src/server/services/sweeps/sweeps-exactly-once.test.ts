// A trial's job is queued exactly once across a leader dying mid-way: the trial names its job's
// id before the job exists, so the window "job created, not yet recorded" (which once left an
// orphan job and gave the trial a second one) is now "job named, not yet created" — the next
// turn creates it under that very id. Simulated by deleting a queued trial's job row (no runner
// is connected, so nothing ran it), which leaves exactly that state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../../testing/harness";

const GRID = {
  method: "grid",
  metric: { name: "test/accuracy", goal: "maximize" },
  parameters: { lr: { values: [0.001, 0.01] } },
  spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 },
  parallel: 1,
};

describe("sweep trials queue their job exactly once", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "once" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates a named-but-missing job under the trial's id, and never a second one", { timeout: 60_000 }, async () => {
    const prisma = t.server.db.prisma;
    const { sweepId } = await t.api.sweep.create.mutate({ projectId: "once", sweep: GRID });
    const first = await waitFor(async () => (await t.api.sweep.get.query({ sweepId })).trials.find((x) => x.jobId) ?? null, 20_000, "trial 0's job");
    const jobId = first.jobId!;
    expect(await prisma.job.count({ where: { group: `sweep-${sweepId}` } })).toBe(1);

    // the state a leader leaves when it dies after naming the job and before creating it
    await prisma.job.delete({ where: { id: jobId } });
    const recreated = await waitFor(async () => prisma.job.findUnique({ where: { id: jobId } }), 20_000, "the named job to be created");
    expect(recreated.status).toBe("queued");
    expect(recreated.group).toBe(`sweep-${sweepId}`);
    // still one job for the one running trial (parallel 1), and the trial kept its id
    const s = await t.api.sweep.get.query({ sweepId });
    expect(s.trials.map((x) => [x.index, x.jobId])).toEqual([[0, jobId]]);
    expect(await prisma.job.count({ where: { group: `sweep-${sweepId}` } })).toBe(1);
    await t.api.sweep.cancel.mutate({ sweepId });
  });
});
