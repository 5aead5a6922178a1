// Shared helpers for the SDK durability tests: child processes (server, training scripts)
// and a TCP proxy that can stop forwarding (a network drop).
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { unpackPoints } from "@heron/core";

import type { TestServer } from "./harness";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../../../..");

export type Child = {
  proc: ChildProcess;
  output: () => string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** `node --import tsx <script> …args` (the real node process: its pid is the one to kill) */
export function startChild(script: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(here, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => (cleanup(), reject(new Error(`timed out waiting for ${re} in:\n${out.slice(-3000)}`))), timeoutMs);
        void exited.then(() => setTimeout(() => (cleanup(), reject(new Error(`process exited before ${re}:\n${out.slice(-3000)}`))), 50));
        const cleanup = () => (clearTimeout(timer), listeners.delete(check));
        listeners.add(check);
        check();
      });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP proxy to `targetPort`. drop() stops forwarding in both directions (connections stay
 * open, bytes wait — like a dead link); restore() lets them flow again.
 */
export async function startProxy(targetPort: number) {
  let dropped = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on("data", (d) => {
      if (!to.write(d)) {
        from.pause();
        to.once("drain", () => !dropped && from.resume());
      }
    });
    from.on("end", () => to.end());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    forward(client, upstream);
    forward(upstream, client);
    if (dropped) for (const s of pair) s.pause();
    const kill = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of pair) s.on("error", kill).on("close", kill);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    drop() {
      dropped = true;
      for (const pair of pairs) for (const s of pair) s.pause();
    },
    restore() {
      dropped = false;
      for (const pair of pairs) for (const s of pair) s.resume();
    },
    close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** the value every test expects at (key index, step) — also used by sdk-client.ts */
export const valueAt = (k: number, step: number) => Math.sin(step * 0.001 + k) * 1000 + k;

/** every point (`key@step` → value) in a run directory's write-ahead logs, as the client flushed it */
export function walPoints(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of fs.readdirSync(path.join(dir, "wal")).filter((f) => f.endsWith(".jsonl"))) {
    for (const line of fs.readFileSync(path.join(dir, "wal", f), "utf8").split("\n")) {
      if (!line) continue;
      try {
        const b = JSON.parse(line) as { packed?: { keys: string[]; data: string } };
        if (!b.packed) continue;
        const r = unpackPoints({ keys: b.packed.keys, data: Buffer.from(b.packed.data, "base64") });
        if ("error" in r) throw new Error(`a corrupt WAL line: ${r.error}`);
        for (const { key, step, value } of r.points) out.set(`${key}@${step}`, value as number);
      } catch {
        // the torn last line of a killed writer
      }
    }
  }
  return out;
}

/** every (key, step) → value the server holds for a run's keys "a" and "b" (the sdk-client scenarios' keys) */
export async function serverPoints(api: TestServer["api"], runId: string): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (const key of ["a", "b"]) {
    const s = await api.metric.series.query({ runId, key, maxPoints: 100_000 });
    s.steps.forEach((step, i) => out.set(`${key}@${step}`, s.values[i]!));
  }
  return out;
}

/**
 * The sdk-client "kill" scenario through `proxy`: 200 steps reach the server, then the link
 * drops and 400 more go to the client's WAL only, then the client is SIGKILLed.
 */
export async function killWhileUnreachable(c: Child, proxy: { drop(): void }): Promise<{ runId: string; dir: string }> {
  const [, runId = "", dir = ""] = await c.waitFor(/RUN (\S+) (\S+)/);
  await c.waitFor(/STEP 200\n/);
  proxy.drop(); // from here on the server gets nothing: only the WAL has it
  await c.waitFor(/STEP 600\n/);
  await new Promise((r) => setTimeout(r, 300)); // > flushIntervalMs: the WAL has caught up
  c.proc.kill("SIGKILL");
  await c.exited;
  return { runId, dir };
}
