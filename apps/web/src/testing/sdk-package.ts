// Installs @heron/sdk the way a user does — `npm pack`, then the tarball into a fresh project
// outside the repository — without a network. `npm install --offline <tarball>` cannot work
// from a clean cache: npm must resolve the tarball's dependency ranges against registry
// metadata, and `npm ci` (how CI installs this repository) caches tarballs but not that
// metadata. So the fresh project gets a lockfile: the tarball plus the SDK's dependency closure
// copied from this repository's package-lock.json (the versions the repository runs), and
// `npm ci --offline` takes every tarball from the npm cache by its integrity. Where the cache
// lacks one (cleaned since this checkout was installed), the installed copies in the
// repository's node_modules — the same versions — are packed and installed from files instead.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { ROOT } from "./sdk-helpers";

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [k: string]: unknown;
};
type Lock = { packages: Record<string, LockEntry> };

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: withoutSourceCondition(process.env) });

/**
 * The environment of a process outside the repository: no "heron-source" condition (the tests'
 * NODE_OPTIONS carry it; the installed package has no sources to resolve it to).
 */
export function withoutSourceCondition(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const nodeOptions = (env.NODE_OPTIONS ?? "").replace(/--conditions[= ]heron-source/g, "").trim();
  return { ...env, NODE_OPTIONS: nodeOptions };
}

/** `npm pack -w @heron/sdk` (its prepack builds dist/ first) → the tarball's path */
export function packSdk(into: string): string {
  // the tarball is found on disk: npm's --json answer shares stdout with the build's own output
  // (tsup prints bracketed lines on a fresh clone), so it cannot be parsed reliably
  const before = new Set(fs.readdirSync(into));
  npm(["pack", "-w", "@heron/sdk", "--pack-destination", into, "--silent"], ROOT);
  const tarball = fs.readdirSync(into).find((f) => /^heron-sdk-.*\.tgz$/.test(f) && !before.has(f));
  if (!tarball) throw new Error(`npm pack wrote no heron-sdk-*.tgz into ${into}`);
  return path.join(into, tarball);
}

/** where a package resolves from `from` (a lockfile path), walking up node_modules folders as Node does */
function locate(lock: Lock, from: string, name: string): string | null {
  for (let dir = from; ;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (!dir) return null;
    const i = dir.lastIndexOf("/node_modules/");
    dir = i >= 0 ? dir.slice(0, i) : "";
  }
}

/** A fresh project in the OS temp folder with the tarball installed offline; returns its folder. */
export function installTarball(tarball: string, projectJson: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-sdk-user-"));
  const file = path.basename(tarball);
  fs.copyFileSync(tarball, path.join(dir, file));
  const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "packages/sdk/package.json"), "utf8")) as {
    name: string;
    version: string;
    dependencies: Record<string, string>;
    bin?: Record<string, string>;
    engines?: Record<string, string>;
  };
  const repoLock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as Lock;
  const packages: Record<string, LockEntry> = {
    "": { name: "heron-sdk-user", version: "1.0.0", dependencies: { [sdk.name]: `file:${file}` } },
    [`node_modules/${sdk.name}`]: {
      version: sdk.version,
      resolved: `file:${file}`,
      integrity: `sha512-${crypto.createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")}`,
      dependencies: sdk.dependencies,
      ...(sdk.bin ? { bin: sdk.bin } : {}),
      ...(sdk.engines ? { engines: sdk.engines } : {}),
    },
  };
  // the dependency closure, as the workspace resolves it (hoisted paths kept: they stay valid)
  const queue = Object.keys(sdk.dependencies).map((name) => ({ from: "packages/sdk", name }));
  while (queue.length) {
    const { from, name } = queue.shift()!;
    const key = locate(repoLock, from, name);
    if (!key) throw new Error(`${name} (needed by ${from}) is not in package-lock.json`);
    const target = key.startsWith("packages/sdk/") ? key.slice("packages/sdk/".length) : key;
    if (packages[target]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repoLock.packages[key]!;
    packages[target] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push({ from: key, name: dep });
  }
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "heron-sdk-user", version: "1.0.0", private: true, ...projectJson, dependencies: { [sdk.name]: `file:${file}` } }, null, 2),
  );
  const lockFile = path.join(dir, "package-lock.json");
  const writeLock = () =>
    fs.writeFileSync(lockFile, JSON.stringify({ name: "heron-sdk-user", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2));
  writeLock();
  try {
    npm(["ci", "--offline", "--no-audit", "--no-fund"], dir);
  } catch (err) {
    if (!/ENOTCACHED/.test(String((err as { stderr?: string }).stderr))) throw err;
    repackDependencies(dir, packages);
    writeLock();
    npm(["ci", "--offline", "--no-audit", "--no-fund"], dir);
  }
  return dir;
}

/** points every dependency of the lock at a tarball packed from the repository's installed copy */
function repackDependencies(dir: string, packages: Record<string, LockEntry>) {
  const keys = Object.keys(packages).filter((k) => k.startsWith("node_modules/") && !packages[k]!.resolved?.startsWith("file:"));
  const into = path.join(dir, "deps");
  fs.mkdirSync(into);
  const out = npm(["pack", "--ignore-scripts", "--json", "--silent", "--pack-destination", into, ...keys.map((k) => path.join(ROOT, k))], dir);
  const packed = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; integrity: string }[];
  keys.forEach((k, i) => Object.assign(packages[k]!, { resolved: `file:deps/${packed[i]!.filename}`, integrity: packed[i]!.integrity }));
}
