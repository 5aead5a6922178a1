import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/**/*.test.ts", "packages/**/*.test.ts", "scripts/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/.next/**", "**/generated/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    // 2 cores: two test files at a time; heavy files mark themselves sequential
    maxWorkers: 2,
    reporters: ["default"],
    env: { NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn" },
  },
});
