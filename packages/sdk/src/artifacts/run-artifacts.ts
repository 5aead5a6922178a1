import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { ArtifactNameSchema, ArtifactTypeSchema } from "@heron/core";

import { type ArtifactClient, createArtifactClient } from "./client";
import { type ArtifactSources, collectFiles, fetchVersion, type LocalFile, manifestDigest } from "./local";
import type { ArtifactVersionInfo } from "./types";

export type LogArtifactOptions = ArtifactSources & {
  name: string;
  /** model, checkpoint, dataset, file, or any lowercase word */
  type: string;
  metadata?: Record<string, unknown>;
  description?: string;
  /** aliases besides `latest` (production, staging, …): needs the project role maintainer */
  aliases?: string[];
};
/** `version`: "v3" once the server has it; null while it waits in the run's queue (offline, or the server unreachable) */
export type LoggedArtifact = { version: string | null; digest: string; versionId: string | null };

/**
 * A logged artifact waiting to be sent, one JSON file per record in `<run dir>/artifacts/`:
 * files by local path and digest (streamed at send time — the server checks the digest, so a
 * file changed since is refused, never stored under the wrong digest). `clientKey` makes
 * sending it twice (a lost answer, `heron sync` after a half-sent attempt) create one version.
 */
export type QueuedArtifact = {
  clientKey: string;
  project: string;
  runId: string;
  name: string;
  type: string;
  files: LocalFile[];
  metadata?: Record<string, unknown>;
  description?: string;
  aliases?: string[];
  queuedAt: number;
};

const queueDir = (runDir: string) => path.join(runDir, "artifacts");

/** Writes a record durably (temp file, fsync, rename, fsync the folder): once this returns it survives a crash. */
function enqueue(runDir: string, rec: QueuedArtifact) {
  const dir = queueDir(runDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${rec.clientKey}.json`);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, JSON.stringify(rec));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const d = fs.openSync(dir, "r");
    fs.fsyncSync(d);
    fs.closeSync(d);
  } catch {
    // some filesystems refuse fsync on folders; the record itself is synced
  }
}

/** Records still to send, oldest first. */
export function pendingArtifacts(runDir: string): QueuedArtifact[] {
  const dir = queueDir(runDir);
  if (!fs.existsSync(dir)) return [];
  const out: QueuedArtifact[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".json"))) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as QueuedArtifact);
    } catch {
      // a record torn by a crash before its rename cannot exist; anything else unreadable is skipped
    }
  }
  return out.sort((a, b) => a.queuedAt - b.queuedAt);
}

/** Uploads a record's files (each only if the server lacks it), commits the version, drops the record. */
export async function sendArtifact(client: ArtifactClient, runDir: string, rec: QueuedArtifact, onProgress?: (file: string, sent: number) => void) {
  for (const f of rec.files) await client.uploadBlob(rec.project, f.source, { digest: f.digest, bytes: f.bytes }, (n) => onProgress?.(f.path, n));
  const v = await client.commit({
    projectId: rec.project,
    name: rec.name,
    type: rec.type,
    files: rec.files.map((f) => ({ path: f.path, digest: f.digest, bytes: f.bytes })),
    metadata: rec.metadata,
    description: rec.description,
    aliases: rec.aliases,
    runId: rec.runId,
    clientKey: rec.clientKey,
  });
  fs.rmSync(path.join(queueDir(runDir), `${rec.clientKey}.json`), { force: true });
  return v;
}

/** Sends every queued record of a run directory (`heron sync`); returns what arrived and what failed. */
export async function sendPendingArtifacts(runDir: string, opts: { host: string; apiKey?: string }) {
  const client = createArtifactClient(opts);
  const sent: { name: string; version: string }[] = [];
  const failed: { name: string; error: string }[] = [];
  for (const rec of pendingArtifacts(runDir)) {
    try {
      const v = await sendArtifact(client, runDir, rec);
      sent.push({ name: rec.name, version: `v${v.version}` });
    } catch (err) {
      failed.push({ name: rec.name, error: (err as Error).message });
    }
  }
  return { sent, failed };
}

export type RunArtifactsOptions = { project: string; runId: string; dir: string; online: boolean; host: string; apiKey?: string };

/** A run's logArtifact / useArtifact (see Run). Sends one record at a time, in order. */
export class RunArtifacts {
  private readonly client: ArtifactClient;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RunArtifactsOptions) {
    this.client = createArtifactClient({ host: o.host, apiKey: o.apiKey, retries: 4 });
  }

  async log(opts: LogArtifactOptions): Promise<LoggedArtifact> {
    const name = ArtifactNameSchema.safeParse(opts.name);
    if (!name.success) throw new Error(`logArtifact: name: ${name.error.issues[0]?.message}`);
    const type = ArtifactTypeSchema.safeParse(opts.type);
    if (!type.success) throw new Error(`logArtifact: type: ${type.error.issues[0]?.message}`);
    const files = await collectFiles(opts);
    const rec: QueuedArtifact = {
      clientKey: crypto.randomBytes(16).toString("hex"),
      project: this.o.project,
      runId: this.o.runId,
      name: opts.name,
      type: opts.type,
      files,
      metadata: opts.metadata,
      description: opts.description,
      aliases: opts.aliases,
      queuedAt: Date.now(),
    };
    enqueue(this.o.dir, rec);
    const digest = manifestDigest(files);
    if (!this.o.online) return { version: null, digest, versionId: null };
    const sent = this.chain.then(() => sendArtifact(this.client, this.o.dir, rec));
    this.chain = sent.catch(() => undefined);
    try {
      const v = await sent;
      return { version: `v${v.version}`, digest: v.digest, versionId: v.id };
    } catch (err) {
      console.warn(`[heron] artifact ${opts.name} is kept in ${this.o.dir} to send later (finish() or heron sync): ${(err as Error).message}`);
      return { version: null, digest, versionId: null };
    }
  }

  /** Resolves `name[:alias|:vN]` in the run's project, downloads what the local cache lacks (verified), records the use; returns the folder. */
  async use(ref: string, onProgress?: (file: string, done: number) => void): Promise<{ path: string; version: ArtifactVersionInfo }> {
    if (!this.o.online) throw new Error("useArtifact needs the server: this run is offline");
    const v = await this.client.resolve(this.o.project, ref);
    const folder = await fetchVersion(this.client, v, artifactCacheDir(), onProgress);
    await this.client.recordUse(v.id, this.o.runId);
    return { path: folder, version: v };
  }

  /** Sends what is still queued (finish()); leaves what fails for `heron sync`. */
  async flush(): Promise<void> {
    if (!this.o.online) return;
    await this.chain;
    const r = await sendPendingArtifacts(this.o.dir, { host: this.o.host, apiKey: this.o.apiKey });
    for (const f of r.failed) console.warn(`[heron] artifact ${f.name} not sent (kept for heron sync): ${f.error}`);
  }
}

/** Where downloaded artifacts are cached by digest: $HERON_HOME/artifacts. */
export function artifactCacheDir(home = process.env.HERON_HOME ?? ".heron"): string {
  return path.resolve(home, "artifacts");
}
