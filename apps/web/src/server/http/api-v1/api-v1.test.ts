import { packPoints } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "../../../testing/harness";
import { PACKED_BATCH_TYPE } from "./body";

// a 1×1 PNG
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer("sqlite");
});
afterAll(async () => {
  await t?.close();
});

async function call(method: string, path: string, body?: unknown, opts: { key?: string | null; type?: string; raw?: Buffer } = {}) {
  const key = opts.key === undefined ? t.key : opts.key;
  const res = await fetch(`${t.server.url}/api/v1${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), "content-type": opts.type ?? "application/json" },
    body: opts.raw ? new Uint8Array(opts.raw) : body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function stored(runId: string) {
  const points: { key: string; step: number; value: number }[] = [];
  for await (const batch of t.server.services.metrics.scan(runId)) points.push(...batch);
  return points;
}

describe("HTTP API v1", () => {
  it("serves an OpenAPI 3.1 document generated from the schemas", async () => {
    const res = await fetch(`${t.server.url}/api/v1/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/runs", "/runs/{runId}", "/runs/{runId}/batches", "/runs/{runId}/finish"]));
    expect(doc.components.schemas).toHaveProperty("Batch");
  });

  it("refuses requests without a valid key, unknown routes and wrong methods", async () => {
    expect((await call("POST", "/runs", { project: "p", writer: "0-a" }, { key: null })).status).toBe(401);
    expect((await call("POST", "/runs", { project: "p", writer: "0-a" }, { key: "hk_nope" })).status).toBe(401);
    expect((await call("GET", "/nothing")).status).toBe(404);
    expect((await call("GET", "/runs")).status).toBe(405);
  });

  it("creates runs idempotently and stores every batch exactly once", async () => {
    const init = { project: "http-api", id: "http-run-1", resume: "allow", writer: "0-w1", name: "h", config: { lr: 0.1 }, host: "box", extra: 1 };
    const a = await call("POST", "/runs", init);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ runId: "http-run-1", resumed: false, lastSeq: 0, lastStep: null, status: "running" });
    const again = await call("POST", "/runs", init);
    expect(again.body).toMatchObject({ runId: "http-run-1", resumed: true, lastSeq: 0 });

    const b1 = {
      writer: "0-w1",
      seq: 1,
      points: [
        { key: "loss", step: 0, value: 1, ts: 1 },
        { key: "loss", step: 1, value: "NaN", ts: 2 },
        { key: "acc", step: 1, value: null, ts: 2 },
      ],
    };
    expect((await call("POST", "/runs/http-run-1/batches", b1)).body).toEqual({ ackSeq: 1, written: 3 });
    // a repeated batch is acknowledged and not stored twice
    expect((await call("POST", "/runs/http-run-1/batches", b1)).body).toEqual({ ackSeq: 1, written: 0 });
    // a gap is not acknowledged: the client resends from ackSeq + 1
    const b3 = { writer: "0-w1", seq: 3, points: [{ key: "loss", step: 3, value: 3, ts: 4 }] };
    expect((await call("POST", "/runs/http-run-1/batches", b3)).body).toMatchObject({ ackSeq: 1 });
    // an empty batch (what the client sends in place of one the server refused) moves the sequence on
    expect((await call("POST", "/runs/http-run-1/batches", { writer: "0-w1", seq: 2 })).body).toMatchObject({ ackSeq: 3 });
    expect((await call("POST", "/runs/http-run-1/batches", b3)).body).toEqual({ ackSeq: 3, written: 0 });

    const records = {
      writer: "0-w1",
      seq: 4,
      texts: [{ key: "samples", step: 3, rows: [{ text: "hello", caption: "c" }], ts: 5 }],
      images: [{ key: "img", step: 3, width: 1, height: 1, png: PNG, ts: 5 }],
      logs: [{ stream: "stdout", line: "epoch 1", ts: 5 }],
      config: { bs: 32 },
      summary: { best: "Infinity" },
    };
    expect((await call("POST", "/runs/http-run-1/batches", records)).body).toEqual({ ackSeq: 4, written: 0 });
    const resumed = await call("POST", "/runs", init);
    expect(resumed.body).toMatchObject({ lastSeq: 4, lastStep: 3 });
    const points = await stored("http-run-1");
    expect(points).toHaveLength(4);
    expect(points.find((p) => p.key === "acc")!.value).toBeNaN();
    expect(await t.api.run.texts.query({ runId: "http-run-1" })).toHaveLength(1);
    const logs = await t.api.run.logs.query({ runId: "http-run-1" });
    expect(JSON.stringify(logs)).toContain("epoch 1");

    // the end travels in a batch; a sync of the ended run does not bring it back to running
    expect((await call("POST", "/runs/http-run-1/batches", { writer: "0-w1", seq: 5, end: { state: "finished" } })).body).toMatchObject({ ackSeq: 5 });
    expect((await call("GET", "/runs/http-run-1")).body).toMatchObject({ status: "finished", project: "http-api", config: { lr: 0.1, bs: 32 } });
    await call("POST", "/runs", { ...init, sync: true });
    expect((await call("GET", "/runs/http-run-1")).body).toMatchObject({ status: "finished" });
  });

  it("accepts the packed column form, as JSON (base64) and as the binary frame", async () => {
    await call("POST", "/runs", { project: "http-api", id: "http-run-2", resume: "allow", writer: "0-w2" });
    const packed = packPoints([
      ["loss", 0, 0.5, 1],
      ["loss", 1, "Infinity", 2],
    ]);
    const asJson = { writer: "0-w2", seq: 1, packed: { keys: packed.keys, data: Buffer.from(packed.data).toString("base64") } };
    expect((await call("POST", "/runs/http-run-2/batches", asJson)).body).toEqual({ ackSeq: 1, written: 2 });
    const more = packPoints([["loss", 2, 0.25, 3]]);
    const header = Buffer.from(JSON.stringify({ writer: "0-w2", seq: 2, packed: { keys: more.keys } }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const raw = Buffer.concat([len, header, Buffer.from(more.data)]);
    expect((await call("POST", "/runs/http-run-2/batches", undefined, { type: PACKED_BATCH_TYPE, raw })).body).toEqual({ ackSeq: 2, written: 1 });
    expect((await stored("http-run-2")).map((p) => p.value)).toEqual([0.5, Infinity, 0.25]);
  });

  it("answers invalid input with a clear 4xx", async () => {
    await call("POST", "/runs", { project: "http-api", id: "http-run-3", resume: "allow", writer: "0-w3" });
    const bad = await call("POST", "/runs/http-run-3/batches", { writer: "0-w3", seq: 1, points: [{ key: "loss", step: -1, value: 1, ts: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/points\.0\.step/);
    expect(
      (await call("POST", "/runs/http-run-3/batches", { writer: "0-w3", seq: 1, images: [{ key: "i", step: 0, width: 1, height: 1, png: "%%%", ts: 1 }] }))
        .status,
    ).toBe(400);
    expect((await call("POST", "/runs", { project: "bad name!", writer: "0-x" })).status).toBe(400);
    expect((await call("POST", "/runs", undefined, { raw: Buffer.from("{not json") })).status).toBe(400);
    expect((await call("POST", "/runs/no-such-run/batches", { writer: "0-w3", seq: 1 })).status).toBe(404);
    const conflict = await call("POST", "/runs", { project: "http-api", id: "http-run-3", writer: "0-w3" });
    expect(conflict.status).toBe(409);
    const huge = await call("POST", "/runs", undefined, { raw: Buffer.alloc(5 * 2 ** 20, 32) });
    expect(huge.status).toBe(413);
  });
});
