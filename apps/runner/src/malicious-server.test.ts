// A spoofed or compromised server must not be able to write outside this runner's HERON_HOME
// nor crash the daemon: every answer and push it sends is checked before the runner acts.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import pino from "pino";
import { Server } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";

import { downloadLatestCheckpoint, type Emit } from "./checkpoint-sync";
import { containedPath } from "./contained-path";
import { RunnerDaemon } from "./daemon";
import { fetchSourceCheckpoints } from "./source-checkpoints";
import { createFakeExecutor } from "./testing/fake-executor";

const temps: string[] = [];
afterEach(() => temps.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
/** a sandbox whose `home` is one level down, so an escape lands in `outside` where we can see it */
const sandbox = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "heron-evil-"));
  temps.push(root);
  const home = path.join(root, "home");
  fs.mkdirSync(home);
  return { root, home, outside: () => fs.readdirSync(root).filter((n) => n !== "home") };
};
const held = { jobId: "job1", fencingToken: 1 };

describe("containedPath", () => {
  it("joins plain names and refuses anything that could leave the root", () => {
    expect(containedPath("/srv/heron", "checkpoints", "job1")).toBe(path.resolve("/srv/heron/checkpoints/job1"));
    for (const bad of ["..", ".", "", "a/b", "a\\b", "/etc", "x\0y", "../x"]) expect(() => containedPath("/srv/heron", "checkpoints", bad)).toThrow(/refused/);
  });
});

describe("checkpoint download from a malicious server", () => {
  const serve = (checkpoint: unknown, data: unknown = Buffer.from("{}")): Emit =>
    (async (event: string) => (event.endsWith(":latest") ? { ok: true, checkpoint } : { ok: true, data })) as Emit;

  it.each([
    ["a file name with ../", { step: 1, files: [{ name: "../../pwned", bytes: 2, chunks: 1 }] }],
    ["an absolute file name", { step: 1, files: [{ name: "/tmp/pwned", bytes: 2, chunks: 1 }] }],
    ["a step that is a path", { step: "1/../../../pwned", files: [{ name: "meta.json", bytes: 2, chunks: 1 }] }],
    ["a negative step", { step: -5, files: [{ name: "meta.json", bytes: 2, chunks: 1 }] }],
    ["a billion chunks", { step: 1, files: [{ name: "meta.json", bytes: 2, chunks: 1e9 }] }],
  ])("refuses %s and writes nothing outside", async (_what, checkpoint) => {
    const s = sandbox();
    const dir = path.join(s.home, "checkpoints", "job1");
    await expect(downloadLatestCheckpoint(serve(checkpoint), held, dir)).rejects.toThrow(/malformed answer from the server/);
    expect(s.outside()).toEqual([]);
  });

  it("refuses chunk data that is not bytes", async () => {
    const s = sandbox();
    const dir = path.join(s.home, "checkpoints", "job1");
    await expect(downloadLatestCheckpoint(serve({ step: 1, files: [{ name: "meta.json", bytes: 2, chunks: 1 }] }, "{}"), held, dir)).rejects.toThrow(
      /malformed answer/,
    );
  });

  it("a spec whose source job id is a path fails the job instead of writing outside", async () => {
    const s = sandbox();
    const lease = { jobId: "job1", fencingToken: 1, spec: { kind: "distill", teacher: { runId: "r", jobId: "../../escaped" } } } as never;
    const emit = serve({ step: 1, files: [{ name: "meta.json", bytes: 2, chunks: 1 }] });
    const why = await fetchSourceCheckpoints(emit, lease, s.home, () => undefined);
    expect(why).toMatch(/refused/);
    expect(s.outside()).toEqual([]);
  });
});

describe("RunnerDaemon against a malicious server", () => {
  it("refuses malformed leases and pushes, runs nothing, and stays up", async () => {
    const s = sandbox();
    const httpServer = http.createServer();
    const ioServer = new Server(httpServer, { path: "/socket.io" });
    await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", r));
    const claims: number[] = [];
    const badLeases = [
      { jobId: "../../pwned", runId: "r", projectName: "p", attempt: 1, fencingToken: 1, expiresAt: 0, jobToken: "t", spec: {} },
      { jobId: "job2", runId: "r", projectName: "p", attempt: "1; rm -rf", fencingToken: 1, expiresAt: 0, jobToken: "t", spec: {} },
      "not a lease",
    ];
    ioServer.on("connection", (sock) => {
      sock.on("runner:hello", (_p, ack) => {
        ack({ ok: true, runnerId: "evil" });
        // pushes with the wrong shape must be ignored, not crash the daemon
        sock.emit("job:cancel", null);
        sock.emit("job:cancel", { jobId: { toString: 1 } });
      });
      sock.on("runner:claim", (_p, ack) => {
        const lease = badLeases[claims.length];
        claims.push(Date.now());
        ack(lease === undefined ? { ok: true, lease: null } : { ok: true, lease });
      });
      sock.on("runner:heartbeat", (_p, ack) => ack({ ok: true, stale: "everything", cancel: [42] }));
      sock.onAny((event, ...args) => {
        const ack = args.at(-1);
        if (!["runner:hello", "runner:claim", "runner:heartbeat"].includes(event) && typeof ack === "function") ack({ ok: true });
      });
    });
    const executor = createFakeExecutor({ durationMs: 10 });
    const daemon = new RunnerDaemon({
      server: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
      token: "t",
      home: s.home,
      slots: 1,
      executor,
      logger: pino({ level: "silent" }),
      heartbeatMs: 100,
    });
    try {
      await daemon.start();
      await new Promise((r) => setTimeout(r, 800));
      expect(claims.length).toBeGreaterThanOrEqual(3);
      expect(executor.records).toEqual([]);
      expect(s.outside()).toEqual([]);
      expect(daemon.busySlots).toBe(0);
    } finally {
      await daemon.stop();
      void ioServer.close();
      httpServer.close();
    }
  });
});
