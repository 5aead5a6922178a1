import { PROTOCOL_VERSION, type WireMetricPoint } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { emitMalformed, postgresAvailable, type Provider, startTestServer, type TestServer } from "../testing/harness";

const pgOk = await postgresAvailable();

/** The metrics path end to end: socket.io batches → ingest → store; tRPC reads; CSV export. */
function suite(provider: Provider) {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(provider);
  });
  afterAll(async () => t?.close());

  it("ingests exactly once, refuses bad batches alone, and serves series, compare and CSV", async () => {
    const socket = await t.connect();
    const init = async (name: string) => {
      const a = await socket.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "metrics-api", name });
      if (!a.ok) throw new Error(a.error);
      return a.runId;
    };
    const runId = await init("a");
    const send = (seq: number, points: WireMetricPoint[]) => socket.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq, writer: "0", points });
    const pts = (from: number, n: number, v = 0) =>
      Array.from({ length: n }, (_, i) => ({ key: "loss", step: from + i, value: v + 1 / (from + i + 1), ts: 1_700_000_000_000 + from + i }));

    expect(await send(1, pts(0, 3000))).toEqual({ ok: true, ackSeq: 1, written: 3000 });
    expect(await send(3, pts(6000, 3000))).toEqual({ ok: true, ackSeq: 1, written: 3000 }); // ahead of a gap
    expect(await send(2, [...pts(3000, 3000), { key: "acc", step: 5, value: "NaN", ts: 1 }])).toEqual({ ok: true, ackSeq: 3, written: 3001 });
    expect(await send(2, pts(3000, 3000, 99))).toEqual({ ok: true, ackSeq: 3, written: 0 }); // replay: first write wins
    for (const [bad, msg] of [
      [{ key: "loss", step: -1, value: 1, ts: 1 }, /step must be ≥ 0/],
      [{ key: "loss", step: 1.5, value: 1, ts: 1 }, /step must be an integer/],
      [{ key: "", step: 1, value: 1, ts: 1 }, /metric key must not be empty/],
      [{ key: "k".repeat(513), step: 1, value: 1, ts: 1 }, /longer than 512/],
      [{ key: "loss", step: 1, value: "1", ts: 1 }, /points\.0\.value/],
    ] as const) {
      const ack = await emitMalformed(socket, "run:log", { v: PROTOCOL_VERSION, runId, seq: 4, writer: "0", points: [bad] });
      expect(ack).toEqual({ ok: false, error: expect.stringMatching(msg) });
    }
    const huge = await send(4, pts(20_000, 50_001));
    expect(!huge.ok && huge.error).toMatch(/at most 50000 points/);
    const unknown = await socket.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId: "no-such-run", seq: 1, points: pts(0, 1) });
    expect(!unknown.ok && unknown.error).toMatch(/not found/);

    const exact = await t.api.metric.series.query({ runId, key: "loss", maxPoints: 100_000 });
    expect(exact.bucketed).toBe(false);
    expect(exact.steps).toHaveLength(9000);
    expect(exact.values[3500]).toBe(1 / 3501);
    const bucketed = await t.api.metric.series.query({ runId, key: "loss", maxPoints: 100 });
    expect(bucketed).toMatchObject({ bucketed: true });
    expect(bucketed.steps.length).toBeLessThanOrEqual(100);
    expect(bucketed.max![0]).toBe(1);
    expect((await t.api.metric.series.query({ runId, key: "acc" })).values).toEqual([null]);

    const other = await init("b");
    await socket.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: other,
      seq: 1,
      writer: "0",
      points: pts(0, 500).map((p) => ({ ...p, step: p.step * 10 })),
    });
    const cmp = await t.api.metric.compare.query({ runIds: [runId, other], key: "loss", maxPoints: 200 });
    expect(cmp.map((c) => c.runId)).toEqual([runId, other]);
    expect(cmp[0]!.series.bucketWidth).toBe(cmp[1]!.series.bucketWidth);
    const sums = await t.api.metric.summaries.query({ runIds: [runId, other] });
    expect(sums[runId]!.loss).toMatchObject({ count: 9000, min: 1 / 9000, max: 1, maxStep: 8999 });

    const res = await fetch(`${t.server.url}/api/runs/${runId}/metrics.csv`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe("key,step,value,timestamp");
    expect(lines).toHaveLength(1 + 9001);
    expect(lines[1]).toBe(`"acc",5,NaN,${new Date(1).toISOString()}`);
    expect(lines[2]!.startsWith('"loss",0,1,')).toBe(true);
    socket.close();
  });
}

describe("metrics API on SQLite", () => suite("sqlite"));
describe.skipIf(!pgOk)("metrics API on PostgreSQL", () => suite("postgres"));
