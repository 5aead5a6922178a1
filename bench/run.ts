// `npm run bench -- <name>` runs bench/<name>.ts. Each benchmark compares against a baseline
// measured in the same run and prints one JSON object as its last line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.dirname(fileURLToPath(import.meta.url));
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".test.ts"))
  .map((f) => f.replace(/\.ts$/, ""));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.sort().join(", ")}`);
  process.exit(name ? 1 : 0);
}
// a benchmark of the SDK measures the package users install (dist/, built by tsup) — not its
// sources: build it first, and run without the "heron-source" condition (the default).
// The runner's jobs log through the SDK too, so a benchmark that starts a runner needs it built.
const file = path.join(dir, `${name}.ts`);
const source = fs.readFileSync(file, "utf8");
if (source.includes("@heron/sdk") || source.includes("@heron/runner")) {
  const build = spawnSync("npm", ["run", "build", "-w", "@heron/sdk", "--silent"], { cwd: path.join(dir, ".."), stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...process.argv.slice(3)], {
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
process.exit(r.status ?? 1);
