#!/usr/bin/env node
// `npx heron …` — the Heron CLI. Sources are TypeScript; tsx compiles them on the fly.
import { register } from "tsx/esm/api";

register();
await import("../src/heron-cli.ts");
