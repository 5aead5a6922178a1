import { syncRunDir } from "./sync";

export type SyncCommandOptions = { host?: string; apiKey?: string };

/**
 * `heron sync <dir…>`: uploads each run directory and prints one line per directory. Shared by
 * the SDK's own `heron` bin and the repository's full CLI, so both report alike. Returns how
 * many directories failed (the caller turns that into the exit code).
 */
export async function syncDirs(dirs: string[], opts: SyncCommandOptions = {}): Promise<number> {
  let failed = 0;
  for (const dir of dirs) {
    try {
      const r = await syncRunDir(dir, { host: opts.host, apiKey: opts.apiKey });
      const sent = r.writers.reduce((n, w) => n + w.sent, 0);
      console.log(`${dir}: run ${r.runId} — ${sent} batch(es) uploaded${r.url ? ` → ${r.url}` : ""}`);
      for (const w of r.writers) if (w.skipped) console.log(`  writer ${w.writer} skipped: ${w.skipped}`);
      for (const a of r.artifacts.sent) console.log(`  artifact ${a.name} → ${a.version}`);
      for (const a of r.artifacts.failed) console.error(`  artifact ${a.name} not sent: ${a.error}`);
      if (r.artifacts.failed.length) failed++;
    } catch (err) {
      failed++;
      console.error(`${dir}: ${(err as Error).message}`);
    }
  }
  return failed;
}
