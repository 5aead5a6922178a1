#!/usr/bin/env node
// `npm run format` rewrites files with Prettier; `npm run format -- --check` only checks (CI).
import { spawnSync } from "node:child_process";

const check = process.argv.includes("--check");
const r = spawnSync("npx", ["prettier", ".", check ? "--check" : "--write", "--log-level", check ? "warn" : "log"], { stdio: "inherit" });
process.exit(r.status ?? 1);
