import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SERVER_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), "server-process.ts");

/** a port free right now (the kernel's pick), for a server that must come back on the same one */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export type FixedServer = { url: string; child: ChildProcess; output(): string; kill(signal?: NodeJS.Signals): Promise<void> };

/**
 * server-process.ts on a GIVEN HERON_HOME and port — what a restarted server is:
 * harness.startServerProcess picks both itself (a fresh home, port 0), and a client that
 * survives a `kill -9` must find the same server at the same address with the same data.
 */
export async function startFixedServer(home: string, port: number, key: string, env: Record<string, string> = {}): Promise<FixedServer> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env, PORT: String(port), HERON_HOME: home, HERON_BOOTSTRAP_API_KEY: key, HERON_EXIT_WITH_PARENT: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready after 60 s:\n${out.slice(-3000)}`)), 60_000);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        out += d;
        const m = /READY (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    }
    void exited.then(() => (clearTimeout(timer), reject(new Error(`server exited before READY:\n${out.slice(-3000)}`))));
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return {
    url,
    child,
    output: () => out,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
