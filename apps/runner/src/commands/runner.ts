import type { Command } from "commander";

/** `npx heron runner --server URL --token T …` — same as `npm run runner -- …` */
export function register(program: Command) {
  program
    .command("runner")
    .description("start a runner daemon (flags: --server --token --name --queues --slots)")
    .allowUnknownOption()
    .helpOption(false)
    .action(async () => {
      process.argv.splice(2, 1);
      await import("../cli");
    });
}
