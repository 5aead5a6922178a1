import fs from "node:fs";
import path from "node:path";

import { artifactCacheDir, collectFiles, createArtifactClient, fetchVersion } from "@heron/sdk";
import { Presets, SingleBar } from "cli-progress";
import type { Command } from "commander";

type Common = { project: string; host: string; apiKey?: string };

const human = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;

/** one byte-counting bar over several files (stderr, so stdout stays the command's answer) */
function progressBar(total: number, what: string) {
  const bar = new SingleBar(
    { format: `${what} [{bar}] {percentage}% | {done} / {all} | {file}`, hideCursor: true, stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0, { done: human(0), all: human(total), file: "" });
  let base = 0;
  return {
    /** `sent` bytes of the current file, which starts after `base` bytes of earlier ones */
    update: (file: string, sent: number) => bar.update(base + sent, { done: human(base + sent), file }),
    next: (bytes: number) => (base += bytes),
    stop: () => bar.stop(),
  };
}

/** an action whose failures (refusals, an unreachable server) print one line and exit 1, not a stack */
function guarded<A extends unknown[]>(program: Command, fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      program.error(`heron artifact: ${(err as Error).message}`);
    }
  };
}

function options(cmd: Command): Command {
  return cmd
    .requiredOption("--project <name>", "project (name or id)")
    .option("--host <url>", "server URL (default HERON_HOST, then http://127.0.0.1:3000)", process.env.HERON_HOST ?? "http://127.0.0.1:3000")
    .option("--api-key <key>", "API key (default HERON_API_KEY)", process.env.HERON_API_KEY);
}

/**
 * `npx heron artifact put|get|ls`: artifacts of a project from a shell, through the same HTTP
 * routes and client as the SDK (resumable uploads, digest-checked downloads into the cache
 * keyed by digest, $HERON_HOME/artifacts).
 */
export function register(program: Command) {
  const artifact = program.command("artifact").description("log, download and list artifacts (versioned files: models, datasets, …)");

  options(artifact.command("put").description("upload files (or one folder) as a new version of an artifact").argument("<paths...>", "files, or one folder"))
    .requiredOption("--name <name>", "artifact name")
    .option("--type <type>", "model, checkpoint, dataset, file, …", "file")
    .option("--description <text>", "what this version is")
    .option("--metadata <json>", "a JSON object stored with the version")
    .option("--alias <alias...>", "aliases besides latest (production, staging, …; maintainers)")
    .action(
      guarded(program, async (paths: string[], o: Common & { name: string; type: string; description?: string; metadata?: string; alias?: string[] }) => {
        const dirs = paths.filter((p) => fs.statSync(p).isDirectory());
        if (dirs.length && paths.length > 1) program.error("give one folder, or files");
        let metadata: Record<string, unknown> | undefined;
        try {
          metadata = o.metadata ? (JSON.parse(o.metadata) as Record<string, unknown>) : undefined;
        } catch {
          program.error("--metadata must be a JSON object");
        }
        const files = await collectFiles(dirs.length ? { dir: dirs[0] } : { files: paths }).catch((err: Error) => program.error(err.message));
        const client = createArtifactClient({ host: o.host, apiKey: o.apiKey });
        const bar = progressBar(
          files.reduce((n, f) => n + f.bytes, 0),
          "upload",
        );
        try {
          for (const f of files) {
            await client.uploadBlob(o.project, f.source, { digest: f.digest, bytes: f.bytes }, (sent) => bar.update(f.path, sent));
            bar.next(f.bytes);
          }
        } finally {
          bar.stop();
        }
        const v = await client.commit({
          projectId: o.project,
          name: o.name,
          type: o.type,
          files: files.map((f) => ({ path: f.path, digest: f.digest, bytes: f.bytes })),
          description: o.description,
          metadata,
          aliases: o.alias,
        });
        console.log(
          `${v.name}:v${v.version} ${v.created ? "created" : "unchanged (same files as before)"} — ${v.files.length} file(s), ${human(v.bytes)}, digest ${v.digest}`,
        );
      }),
    );

  options(artifact.command("get").description("download a version into the local cache (and --out)").argument("<ref>", "name, name:alias or name:vN"))
    .option("--out <dir>", "also copy the files into this folder")
    .action(
      guarded(program, async (ref: string, o: Common & { out?: string }) => {
        const client = createArtifactClient({ host: o.host, apiKey: o.apiKey });
        const v = await client.resolve(o.project, ref);
        const bar = progressBar(v.bytes, "download");
        let folder: string;
        let current = "";
        try {
          folder = await fetchVersion(client, v, artifactCacheDir(), (file, done) => {
            if (file !== current) {
              const prev = v.files.find((f) => f.path === current);
              if (prev) bar.next(prev.bytes);
              current = file;
            }
            bar.update(file, done);
          });
        } finally {
          bar.stop();
        }
        if (o.out) {
          fs.cpSync(folder, path.resolve(o.out), { recursive: true, dereference: true });
          folder = path.resolve(o.out);
        }
        console.log(`${v.name}:v${v.version} (${v.aliases.join(", ") || "no aliases"}) → ${folder}`);
      }),
    );

  options(artifact.command("ls").description("list a project's artifacts"))
    .option("--type <type>", "only this type")
    .action(
      guarded(program, async (o: Common & { type?: string }) => {
        const client = createArtifactClient({ host: o.host, apiKey: o.apiKey });
        const list = await client.list(o.project, o.type);
        if (!list.length) return console.log("no artifacts");
        for (const a of list) {
          const aliases = Object.entries(a.aliases)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ");
          console.log(
            `${a.name.padEnd(32)} ${a.type.padEnd(10)} ${String(a.versions).padStart(4)} version(s)  ${human(a.latest?.bytes ?? 0).padStart(9)}  ${aliases}`,
          );
        }
      }),
    );
}
