#!/usr/bin/env node
// `npm test`: vitest, then one plain closing line "N passed, N failed, N skipped" that CI reads.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "heron-vitest-")), "results.json");
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync("npx", args, { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const res = JSON.parse(fs.readFileSync(out, "utf8"));
  passed = res.numPassedTests;
  skipped = res.numPendingTests + res.numTodoTests;
  // a file that fails to load has no tests but must count as a failure
  failed = res.numFailedTests + res.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
} catch {
  failed = Math.max(failed, 1);
}
const code = r.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
