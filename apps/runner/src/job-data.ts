import path from "node:path";

import type { JobSpec } from "@heron/core";

/**
 * Files a job spec names on this host (a JSONL file, a CIFAR-10 folder) are read only from
 * the runner's data folder: whoever may submit jobs must not be able to make the runner read
 * its keys or another user's files. Built-in datasets (mnist, fashion-mnist, almanac) ship
 * with the code and are not files the spec names.
 */

/** `$HERON_DATA_DIR`, else `<home>/data` (home: the runner's --home / HERON_HOME) */
export function defaultDataDir(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HERON_DATA_DIR || path.join(home, "data"));
}

/** `given` resolved against `root` (absolute paths kept); throws unless it lies inside root */
export function resolveDataPath(root: string, given: string, field: string): string {
  const base = path.resolve(root);
  if (given.includes("\0")) throw new Error(`${field}: ${JSON.stringify(given)} refused: it holds a NUL character`);
  const resolved = path.resolve(base, given);
  const rel = path.relative(base, resolved);
  if (rel === "" || rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new Error(`${field}: ${given} is outside this runner's data folder ${base} (HERON_DATA_DIR); put the data there and name it relative to that folder`);
  }
  return resolved;
}

/** the spec with every host path it names made absolute inside `root`; throws the first one outside */
export function confineJobData(spec: JobSpec, root: string): JobSpec {
  let out = spec;
  if ("cifarPath" in out && out.cifarPath !== undefined) out = { ...out, cifarPath: resolveDataPath(root, out.cifarPath, "cifarPath") };
  if (out.kind === "finetune" && out.data && "path" in out.data) out = { ...out, data: { path: resolveDataPath(root, out.data.path, "data.path") } };
  return out;
}
