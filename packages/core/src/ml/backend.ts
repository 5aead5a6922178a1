/**
 * Backend selection: the fastest tfjs backend this host can load wins.
 * Order: tfjs-node-gpu (CUDA) → tfjs-node (libtensorflow CPU) → wasm (SIMD, shipped in npm,
 * plus our gradient-kernel shim) → cpu (pure JS, slow but always there).
 * The node packages are optional peers that cannot be installed on hosts without internet;
 * they are imported through a non-literal specifier so neither tsc nor a bundler needs
 * them, and any failure to load simply moves on to the next candidate.
 */
import "@tensorflow/tfjs-backend-wasm";

import * as tf from "@tensorflow/tfjs";

import { registerWasmGradKernels } from "./wasm-kernels";

export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type SelectedBackend = { name: BackendName };

const NODE_PACKAGES: Partial<Record<BackendName, string>> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};

let current: SelectedBackend | undefined;
let inFlight: Promise<SelectedBackend> | undefined;
const loadErrors = new Map<BackendName, string>();

/** why each candidate before the chosen one was skipped (for run environment / logs) */
export function backendLoadErrors(): Record<string, string> {
  return Object.fromEntries(loadErrors);
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    const pkg = NODE_PACKAGES[name];
    if (pkg) {
      // Non-literal on purpose: keeps the optional package out of type checks and bundles.
      const spec: string = pkg;
      await import(/* @vite-ignore */ spec);
      if (!tf.findBackendFactory("tensorflow")) throw new Error(`${pkg} loaded but registered no "tensorflow" backend`);
      if (!(await tf.setBackend("tensorflow"))) throw new Error(`${pkg}: backend failed to initialise`);
    } else {
      if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
      if (name === "wasm") registerWasmGradKernels();
    }
    await tf.ready();
    return true;
  } catch (e) {
    loadErrors.set(name, e instanceof Error ? e.message.split("\n")[0]! : String(e));
    return false;
  }
}

async function select(force: string | undefined): Promise<SelectedBackend> {
  if (force) {
    if (!isBackendName(force)) throw new Error(`unknown backend "${force}" (HERON_BACKEND / force must be one of ${BACKEND_NAMES.join(", ")})`);
    if (!(await tryBackend(force))) throw new Error(`backend ${force} was requested but could not be loaded: ${loadErrors.get(force)}`);
    return { name: force };
  }
  for (const name of BACKEND_NAMES) if (await tryBackend(name)) return { name };
  throw new Error(`no tfjs backend could be loaded: ${JSON.stringify(backendLoadErrors())}`);
}

/**
 * Picks and activates a backend. Idempotent: later calls return the same choice unless
 * a different backend is forced (tests force "cpu" to compare kernels).
 */
export async function selectBackend(opts: { force?: string } = {}): Promise<SelectedBackend> {
  const force = opts.force ?? (process.env.HERON_BACKEND || undefined);
  while (inFlight) await inFlight.catch(() => undefined);
  if (current && (!force || force === current.name)) {
    // someone may have switched tf's backend behind our back; switch it back cheaply
    const tfName = current.name.startsWith("tensorflow") ? "tensorflow" : current.name;
    if (tf.getBackend() !== tfName) await tf.setBackend(tfName);
    return current;
  }
  inFlight = select(force);
  try {
    current = await inFlight;
    return current;
  } finally {
    inFlight = undefined;
  }
}

/** the backend chosen by the last selectBackend call, if any */
export function currentBackend(): SelectedBackend | undefined {
  return current;
}
