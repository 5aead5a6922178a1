import type { Command } from "commander";
import { syncRunDir } from "@heron/core/node";

/** `npx heron sync <dir…>` — uploads offline runs, or runs whose process died, from their directories. */
export function register(program: Command) {
  program
    .command("sync")
    .description("upload run directories (offline runs, or runs whose process died); syncing twice changes nothing")
    .argument("<dirs...>", "run directories, e.g. .heron/runs/<id>")
    .option("--host <url>", "server URL (default HERON_HOST, then the URL the run was started with)")
    .option("--api-key <key>", "API key (default HERON_API_KEY)")
    .action(async (dirs: string[], opts: { host?: string; apiKey?: string }) => {
      let failed = 0;
      for (const dir of dirs) {
        try {
          const r = await syncRunDir(dir, { host: opts.host, apiKey: opts.apiKey });
          const sent = r.writers.reduce((n, w) => n + w.sent, 0);
          console.log(`${dir}: run ${r.runId} — ${sent} batch(es) uploaded${r.url ? ` → ${r.url}` : ""}`);
          for (const w of r.writers) if (w.skipped) console.log(`  writer ${w.writer} skipped: ${w.skipped}`);
        } catch (err) {
          failed++;
          console.error(`${dir}: ${(err as Error).message}`);
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
}
