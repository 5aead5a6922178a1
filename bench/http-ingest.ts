// `npm run bench -- http-ingest`: points/s through HTTP API v1 (what the Python client speaks)
// vs the socket.io path (what the TS SDK speaks), in the same run, against one in-process
// server on SQLite. One writer per transport, batches sent one after another (each waits for
// its ack, as both clients do), BENCH_POINTS points (default 200,000) in batches of
// BENCH_BATCH (default 5,000). HTTP is measured in both of its forms: JSON points (the Python
// client) and the packed binary frame (the TS SDK's column form). Last line: one JSON object.
import fs from "node:fs";

import { packPoints, PROTOCOL_VERSION, type SdkToServer, type ServerToSdk } from "@heron/core";
import { io as connect, type Socket } from "socket.io-client";

import { startBenchServer } from "./helpers/bench-server";

const POINTS = Number(process.env.BENCH_POINTS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const { server, home, key } = await startBenchServer("http");
const auth = { authorization: `Bearer ${key}` };

const batchPoints = (b: number) => Array.from({ length: BATCH }, (_, i) => ({ key: `m/${i % 10}`, step: b * BATCH + i, value: Math.sin(i), ts: Date.now() }));

async function http(runId: string, binary: boolean): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/runs`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ project: "bench", id: runId, resume: "allow", writer: "0-bench" }),
  });
  if (!res.ok) throw new Error(await res.text());
  const started = performance.now();
  for (let b = 0; b < POINTS / BATCH; b++) {
    const pts = batchPoints(b);
    let body: string | Uint8Array<ArrayBuffer>;
    let type = "application/json";
    if (binary) {
      const packed = packPoints(pts.map((p) => [p.key, p.step, p.value, p.ts] as const));
      const header = Buffer.from(JSON.stringify({ writer: "0-bench", seq: b + 1, packed: { keys: packed.keys } }));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(header.length);
      body = new Uint8Array(Buffer.concat([len, header, packed.data]));
      type = "application/vnd.heron.batch";
    } else body = JSON.stringify({ writer: "0-bench", seq: b + 1, points: pts });
    const r = await fetch(`${server.url}/api/v1/runs/${runId}/batches`, { method: "POST", headers: { ...auth, "content-type": type }, body });
    const ack = (await r.json()) as { ackSeq: number };
    if (ack.ackSeq !== b + 1) throw new Error(`HTTP batch ${b + 1}: ${JSON.stringify(ack)}`);
  }
  return POINTS / ((performance.now() - started) / 1000);
}

async function socket(runId: string): Promise<number> {
  const s: Socket<ServerToSdk, SdkToServer> = connect(server.url, { path: "/socket.io", auth: { token: key }, transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => (s.once("connect", resolve), s.once("connect_error", reject)));
  const init = await s.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "bench", id: runId, resume: "allow", writer: "0-bench" });
  if (!init.ok) throw new Error(init.error);
  const started = performance.now();
  for (let b = 0; b < POINTS / BATCH; b++) {
    const packed = packPoints(batchPoints(b).map((p) => [p.key, p.step, p.value, p.ts] as const));
    const ack = await s.emitWithAck("run:log", { v: PROTOCOL_VERSION, runId, seq: b + 1, writer: "0-bench", packed });
    if (!ack.ok || ack.ackSeq !== b + 1) throw new Error(`socket batch ${b + 1}: ${JSON.stringify(ack)}`);
  }
  const rate = POINTS / ((performance.now() - started) / 1000);
  s.close();
  return rate;
}

// one warm-up round of each (JIT, prepared statements), then the measured ones
await http("warm-http", false);
await socket("warm-socket");
const socketRate = await socket("socket-run");
const httpJson = await http("http-json-run", false);
const httpPacked = await http("http-packed-run", true);
await server.close();
fs.rmSync(home, { recursive: true, force: true });
const round = (n: number) => Math.round(n);
console.log(`socket.io packed: ${round(socketRate)} points/s; HTTP JSON: ${round(httpJson)} points/s; HTTP packed: ${round(httpPacked)} points/s`);
console.log(
  JSON.stringify({
    bench: "http-ingest",
    points: POINTS,
    batch: BATCH,
    socket_points_per_s: round(socketRate),
    http_json_points_per_s: round(httpJson),
    http_packed_points_per_s: round(httpPacked),
    http_json_ratio: Number((httpJson / socketRate).toFixed(2)),
    http_packed_ratio: Number((httpPacked / socketRate).toFixed(2)),
  }),
);
