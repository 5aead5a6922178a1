import type { NextConfig } from "next";

const config: NextConfig = {
  // workspace packages ship TypeScript sources
  transpilePackages: ["@heron/core"],
  // `npm run typecheck` checks types; the build shouldn't do it twice on a 2-core machine
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
