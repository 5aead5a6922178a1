import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import os from "node:os";
import { promisify } from "node:util";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export type Gpu = { name: string; memoryBytes: number };

/** GPUs from nvidia-smi when it exists; none otherwise (CPU host). */
export async function detectGpus(): Promise<Gpu[]> {
  try {
    const { stdout } = await run("nvidia-smi", ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"], { timeout: 5000 });
    return stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name, mib] = line.split(",").map((s) => s.trim());
        return { name: name ?? "gpu", memoryBytes: Number(mib) * 1024 * 1024 };
      });
  } catch {
    return [];
  }
}

/**
 * The tfjs backend jobs on this host will use, without loading tfjs in the daemon itself:
 * the first installed of tfjs-node-gpu, tfjs-node, wasm (HERON_BACKEND forces one).
 */
export function probeBackend(): string {
  if (process.env.HERON_BACKEND) return process.env.HERON_BACKEND;
  const has = (m: string) => {
    try {
      require.resolve(m);
      return true;
    } catch {
      return false;
    }
  };
  if (has("@tensorflow/tfjs-node-gpu")) return "tensorflow-gpu";
  if (has("@tensorflow/tfjs-node")) return "tensorflow";
  return "wasm";
}

export async function describeHost() {
  const gpus = await detectGpus();
  return { hostname: os.hostname(), cpus: os.cpus().length, memoryBytes: os.totalmem(), backend: probeBackend(), gpus };
}
