// `npx heron <command>`. Each file in ./commands registers one command, so features add
// commands without editing a shared list.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

const program = new Command("heron").description("Heron: experiment tracking and job runner").showHelpAfterError();
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "commands");
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .sort()) {
  const mod = (await import(path.join(dir, file))) as { register?: RegisterCommand };
  mod.register?.(program);
}
await program.parseAsync();
