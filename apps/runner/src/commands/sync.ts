import { syncDirs } from "@heron/sdk";
import type { Command } from "commander";

/** `npx heron sync <dir…>` — the same command as @heron/sdk's own `heron` bin. */
export function register(program: Command) {
  program
    .command("sync")
    .description("upload run directories (offline runs, or runs whose process died); syncing twice changes nothing")
    .argument("<dirs...>", "run directories, e.g. .heron/runs/<id>")
    .option("--host <url>", "server URL (default HERON_HOST, then the URL the run was started with)")
    .option("--api-key <key>", "API key (default HERON_API_KEY)")
    .action(async (dirs: string[], opts: { host?: string; apiKey?: string }) => {
      process.exitCode = (await syncDirs(dirs, opts)) ? 1 : 0;
    });
}
