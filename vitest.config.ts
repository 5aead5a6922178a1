import { defineConfig } from "vitest/config";

// Workspace packages that ship built JavaScript (@heron/sdk) export their .ts sources under the
// "heron-source" condition: tests run the sources, no build first. NODE_OPTIONS carries the same
// condition to the node processes tests start (server, runners, their jobs, SDK scripts).
const SOURCE_CONDITION = "heron-source";
const nodeOptions = `${process.env.NODE_OPTIONS ?? ""} --conditions=${SOURCE_CONDITION}`.trim();

export default defineConfig({
  // Vite's defaults for node (server) code, plus ours first
  ssr: {
    resolve: { conditions: [SOURCE_CONDITION, "module", "node", "development|production"], externalConditions: [SOURCE_CONDITION, "node", "module-sync"] },
  },
  test: {
    include: ["apps/**/*.test.ts", "packages/**/*.test.ts", "scripts/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.next/**", "**/generated/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    // 2 cores: two test files at a time; heavy files mark themselves sequential
    maxWorkers: 2,
    reporters: ["default"],
    // training jobs default to threads "auto"; with two test files at a time on 2 cores every
    // job stays on one thread unless its test asks for more (the data-parallel tests do)
    env: { NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", NODE_OPTIONS: nodeOptions, HERON_CPU_THREADS: "1", HERON_RUNNER_CORES: "1" },
  },
});
