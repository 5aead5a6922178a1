// A sweep agent, a notebook or a test harness starts many runs in one process; a training
// script in CI must be able to exit even when the server never answers.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it, vi } from "vitest";

import { init } from "./init";
import { readWriterMeta } from "./run-dir";
import { listWriters } from "./wal";

const quiet = { captureConsole: false, captureSystem: false, captureEnvironment: false } as const;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "heron-lifecycle-"));

/** a local port nobody listens on: connections are refused at once */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

afterEach(() => vi.restoreAllMocks());

describe("process hooks", () => {
  it("50 runs in one process add one listener per event, no MaxListenersExceededWarning, and none after the last ends", async () => {
    const home = tmp();
    const before = { exit: process.listenerCount("exit"), sigint: process.listenerCount("SIGINT") };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const runs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => init({ project: "sweep", mode: "offline", dir: path.join(home, `r${i}`), ...quiet })),
      );
      expect(process.listenerCount("exit")).toBe(before.exit + 1);
      expect(process.listenerCount("SIGINT")).toBe(before.sigint + 1);
      runs.forEach((run, i) => run.log({ loss: i }));
      await Promise.all(runs.map((run) => run.finish()));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
      // a process without runs handles SIGINT as Node does by default again
      expect(process.listenerCount("exit")).toBe(before.exit);
      expect(process.listenerCount("SIGINT")).toBe(before.sigint);
      for (const run of runs) expect(readWriterMeta(run.dir!, listWriters(run.dir!)[0]!)?.state).toBe("finished");
    } finally {
      process.off("warning", onWarning);
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("unreachable server", () => {
  it("init returns after initTimeoutMs; finish returns after its timeout with one line naming the sync command", async () => {
    const dir = path.join(tmp(), "it's a run");
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
    const host = `http://127.0.0.1:${await deadPort()}`;
    let t = Date.now();
    const run = await init({ project: "ci", host, dir, initTimeoutMs: 400, ...quiet });
    expect(Date.now() - t).toBeLessThan(1_400);
    expect(lines.join("\n")).toContain(`the run appears at ${host}/runs/${run.id} once it arrives`);
    for (let step = 0; step < 1_000; step++) run.log({ loss: 1 / (step + 1) });
    lines.length = 0;
    t = Date.now();
    await run.finish({ timeoutMs: 700 });
    expect(Date.now() - t).toBeLessThan(1_700);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`upload it with: npx heron sync '${dir.replace(/'/g, "'\\''")}'`);
    // the data waits on disk, the end included
    expect(readWriterMeta(dir, listWriters(dir)[0]!)?.state).toBe("finished");
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});
