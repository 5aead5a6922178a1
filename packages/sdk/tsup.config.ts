import { defineConfig, type Options } from "tsup";

// The package people install: plain JavaScript (ESM + CJS) and types. Our browser-safe protocol
// and schemas (@heron/core) are bundled in — core is a private workspace package, never installed
// from a registry — while socket.io-client, zod and the rest stay ordinary dependencies.
const common: Options = {
  target: "node20",
  platform: "node",
  sourcemap: false,
  splitting: false,
  noExternal: ["@heron/core"],
  // resolve @heron/core to its .ts sources, as in-repo consumers do
  esbuildOptions(options) {
    options.conditions = ["heron-source"];
  },
};

// one config (two would clean each other's output when built in parallel); the `heron` bin is
// dist/cli.js, Node runs it directly
export default defineConfig({
  ...common,
  entry: { index: "src/index.ts", cli: "src/cli.ts" },
  format: ["esm", "cjs"],
  // the public types stand alone: Run's constructor (internal plumbing typed with core's
  // protocol) is stripped, so the .d.ts never refers to the private @heron/core
  dts: { entry: { index: "src/index.ts" }, compilerOptions: { stripInternal: true } },
  clean: true,
});
