#!/usr/bin/env node
// `npx heron …` — the Heron CLI. Sources are TypeScript; tsx compiles them on the fly.
import { register as registerHooks } from "node:module";

import { register } from "tsx/esm/api";

register();
// workspace packages (@heron/sdk) resolve to their .ts sources too: no build needed first
const addSourceCondition = `export function resolve(specifier, context, next) {
  const conditions = context.conditions.includes("heron-source") ? context.conditions : [...context.conditions, "heron-source"];
  return next(specifier, { ...context, conditions });
}`;
registerHooks(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
await import("../src/heron-cli.ts");
