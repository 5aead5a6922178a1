// Several processes (ranks) of one distributed job log into one run. What rank r > 0
// logs is its own series `<key>@rank<r>` — two ranks logging "loss" at the same steps both
// keep all their values; rank 0 owns the config and decides how the run ends.
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { init } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "./harness";
import { valueAt } from "./sdk-helpers";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer("sqlite");
});
afterAll(async () => {
  await t?.close();
});

const quiet = { captureSystem: false, captureConsole: false, captureExit: false, captureEnvironment: false, flushIntervalMs: 50 } as const;

describe("ranks of one run", () => {
  it("two ranks logging the same key at the same steps keep both series; rank 0 owns config and the end", async () => {
    const opts = { project: "ranks", host: t.server.url, apiKey: t.key, ...quiet };
    const rank0 = await init({ ...opts, name: "ddp", tags: ["ddp"], config: { lr: 0.1 }, dir: path.join(t.home, "rank0") });
    const rank1 = await init({
      ...opts,
      id: rank0.id,
      resume: "allow",
      rank: 1,
      name: "rank-1-name",
      tags: ["r1"],
      group: "r1-group",
      config: { lr: 99 },
      dir: path.join(t.home, "rank1"),
    });
    for (let step = 0; step < 200; step++) {
      rank0.log({ loss: valueAt(0, step), train: { acc: step } }, { step });
      rank1.log({ loss: valueAt(1, step), train: { acc: 1000 - step } }, { step });
    }
    rank0.logText("samples", "from rank 0", { step: 5 });
    rank1.logText("samples", "from rank 1", { step: 5 });
    rank1.config.update({ epochs: 99 }); // ignored: rank 0 owns the config
    rank1.summary.best = 1;
    // rank 1 ends first, and badly: the run goes on while rank 0 logs
    await rank1.finish({ state: "crashed", error: "rank 1 ran out of memory" });
    expect((await t.api.run.get.query({ runId: rank0.id })).status).toBe("running");
    for (let step = 200; step < 300; step++) rank0.log({ loss: valueAt(0, step) }, { step });
    rank0.summary.best = 0;
    await rank0.finish();

    const run = await t.api.run.get.query({ runId: rank0.id });
    expect(run.status).toBe("finished");
    expect(run.config).toEqual({ lr: 0.1 });
    // rank 0 owns the run's metadata too: rank 1's name, tags and group changed nothing
    expect(run).toMatchObject({ name: "ddp", tags: ["ddp"], group: null });
    expect(run.summary).toMatchObject({ best: 0, "best@rank1": 1 });
    expect(run.keys.sort()).toEqual(["loss", "loss@rank1", "train/acc", "train/acc@rank1"]);
    const series = (key: string) => t.api.metric.series.query({ runId: rank0.id, key, maxPoints: 100_000 });
    const loss0 = await series("loss");
    expect(loss0.steps).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(loss0.values).toEqual(loss0.steps.map((s) => valueAt(0, s)));
    const loss1 = await series("loss@rank1");
    expect(loss1.steps).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(loss1.values).toEqual(loss1.steps.map((s) => valueAt(1, s)));
    expect((await series("train/acc@rank1")).values).toEqual(Array.from({ length: 200 }, (_, i) => 1000 - i));
    const texts = await t.api.run.texts.query({ runId: rank0.id });
    expect(texts.map((x) => [x.key, x.step, (x.rows as { text: string }[])[0]?.text])).toEqual([
      ["samples", 5, "from rank 0"],
      ["samples@rank1", 5, "from rank 1"],
    ]);
    // rank 1's end is kept, as a line in the run's log
    const logs = await t.api.run.logs.query({ runId: rank0.id });
    expect(logs.map((l) => l.line).join("\n")).toMatch(/rank 1 ended: crashed — rank 1 ran out of memory/);
  });

  it("the server tags the series of a rank > 0 whatever the client sent, and a late rank does not reopen a finished run", async () => {
    const opts = { project: "ranks", host: t.server.url, apiKey: t.key, ...quiet };
    const rank0 = await init({ ...opts, dir: path.join(t.home, "raw-rank0") });
    rank0.log({ loss: 1 }, { step: 0 });
    await rank0.finish();
    // a client that does not tag its keys itself (an older SDK, another language)
    const s = await t.connect();
    const initAck = await s.emitWithAck("run:init", {
      v: PROTOCOL_VERSION,
      project: "ranks",
      id: rank0.id,
      resume: "allow",
      rank: 2,
      writer: "other",
      config: { lr: 5 },
    });
    expect(initAck).toMatchObject({ ok: true, status: "finished" });
    const ack = await s.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: rank0.id,
      seq: 1,
      writer: "other",
      points: [
        { key: "loss", step: 0, value: 2, ts: Date.now() },
        { key: "sys/host-b/cpu_pct", step: 0, value: 50, ts: Date.now() },
      ],
      config: { lr: 6 },
      environment: { backend: "rank2-gpu" },
      end: { state: "aborted" },
    });
    expect(ack).toMatchObject({ ok: true, ackSeq: 1 });
    const run = await t.api.run.get.query({ runId: rank0.id });
    expect(run.status).toBe("finished");
    expect(run.config ?? {}).toEqual({});
    // rank 0 owns the captured environment too: a rank's batch does not merge into it
    expect((run.environment as Record<string, unknown> | null)?.backend).toBeUndefined();
    expect(run.keys.sort()).toEqual(["loss", "loss@rank2", "sys/host-b/cpu_pct"]);
    expect((await t.api.metric.series.query({ runId: rank0.id, key: "loss" })).values).toEqual([1]);
    expect((await t.api.metric.series.query({ runId: rank0.id, key: "loss@rank2" })).values).toEqual([2]);
  });
  it("a rank's rewind cuts its own series only, never another rank's newer points", async () => {
    const s = await t.connect();
    const initOf = (rank: number, writer: string) =>
      s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "ranks", id: runId, resume: "allow", rank, writer });
    const points = (from: number, to: number, value: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ key: "loss", step: from + i, value, ts: Date.now() }));
    const runId = `rewind-ranks-${Date.now().toString(36)}`;
    expect(await initOf(0, "0-a")).toMatchObject({ ok: true });
    expect(await initOf(1, "1-b")).toMatchObject({ ok: true });
    // the first attempt of both ranks got to step 100, then both crashed
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 1, writer: "0-a", points: points(0, 100, 1) })).toMatchObject({ ok: true });
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 1, writer: "1-b", points: points(0, 100, 1) })).toMatchObject({ ok: true });
    // both resume from the checkpoint at step 50: rank 0 first, and it is already training on
    expect(await initOf(0, "0-c")).toMatchObject({ ok: true });
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 1, writer: "0-c", points: [], rewind: { step: 50 } })).toMatchObject({ ok: true });
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 2, writer: "0-c", points: points(51, 80, 2) })).toMatchObject({ ok: true });
    // rank 1 resumes a little later: its rewind must not drop rank 0's new steps 51…80
    expect(await initOf(1, "1-d")).toMatchObject({ ok: true });
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 1, writer: "1-d", points: [], rewind: { step: 50 } })).toMatchObject({ ok: true });
    expect(await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: 2, writer: "1-d", points: points(51, 60, 2) })).toMatchObject({ ok: true });
    s.disconnect();
    const series = (key: string) => t.api.metric.series.query({ runId, key, maxPoints: 100_000 });
    const loss0 = await series("loss");
    expect(loss0.steps).toEqual(Array.from({ length: 81 }, (_, i) => i));
    expect(loss0.values).toEqual(loss0.steps.map((st) => (st > 50 ? 2 : 1)));
    const loss1 = await series("loss@rank1");
    expect(loss1.steps).toEqual(Array.from({ length: 61 }, (_, i) => i));
    expect(loss1.values).toEqual(loss1.steps.map((st) => (st > 50 ? 2 : 1)));
  });
});
