import { PROTOCOL_VERSION, type RunLogAck } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "../../testing/harness";
import { csvText } from "./csv";

describe("csvText", () => {
  it("quotes per RFC 4180: doubled quotes, commas and line breaks inside quotes", () => {
    expect(csvText("loss")).toBe('"loss"');
    expect(csvText('a"b,c')).toBe('"a""b,c"');
    expect(csvText("two\nlines")).toBe('"two\nlines"');
    expect(csvText("back\\slash")).toBe('"back\\slash"');
  });

  it("neutralises what a spreadsheet would run as a formula", () => {
    for (const f of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil","x")']) expect(csvText(f).startsWith(`"'`)).toBe(true);
    expect(csvText('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvText("train/loss")).toBe('"train/loss"');
  });
});

describe("GET /api/runs/:id/metrics.csv", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
  });
  afterAll(async () => t?.close());

  it("exports hostile metric keys as inert, well-formed CSV", async () => {
    const socket = await t.connect();
    const init = await socket.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "csv", name: "r" });
    if (!init.ok) throw new Error(init.error);
    const keys = ['=cmd|"/c calc"!A1', 'a"b,c'];
    const ack = (await socket.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: init.runId,
      seq: 1,
      writer: "0",
      points: keys.map((key) => ({ key, step: 1, value: 2, ts: 0 })),
    })) as RunLogAck;
    expect(ack.ok).toBe(true);
    const res = await fetch(`${t.server.url}/api/runs/${init.runId}/metrics.csv`, { headers: { authorization: `Bearer ${t.key}` } });
    const lines = (await res.text()).trim().split("\n");
    expect(lines.slice(1).sort()).toEqual([`"'=cmd|""/c calc""!A1",1,2,1970-01-01T00:00:00.000Z`, `"a""b,c",1,2,1970-01-01T00:00:00.000Z`]);
  });
});
