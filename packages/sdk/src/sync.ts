import { sendPendingArtifacts } from "./artifacts/run-artifacts";
import { claimant, claimWriter, releaseWriter } from "./claim";
import { processAlive, readRunMeta, readWriterMeta, type RunMeta, writeWriterMeta } from "./run-dir";
import { Sender } from "./sender";
import { listWriters, WriteAheadLog } from "./wal";

export type SyncResult = {
  runId: string;
  url: string | null;
  writers: { writer: string; sent: number; skipped?: string; endedAs?: string }[];
  /** artifacts logged while offline (or unsent), now versions on the server; and those that failed */
  artifacts: { sent: { name: string; version: string }[]; failed: { name: string; error: string }[] };
};

/**
 * A Sender that uploads what is recorded in one writer's log (heron sync, and a resumed
 * process taking over the leftovers of an earlier one). `sync: true`: the server keeps a run
 * that already ended as it is instead of marking it running again.
 */
export function recordedWriterSender(meta: RunMeta, wal: WriteAheadLog, rank: number, opts: { host: string; apiKey?: string; dropEnd?: boolean }): Sender {
  return new Sender({
    host: opts.host,
    apiKey: opts.apiKey,
    wal,
    writer: wal.writer,
    dropEnd: opts.dropEnd,
    init: {
      project: meta.project,
      id: meta.id,
      resume: "allow",
      name: meta.name,
      config: rank === 0 ? meta.config : undefined,
      tags: meta.tags,
      group: meta.group,
      notes: meta.notes,
      environment: meta.environment,
      rank,
      startedAt: meta.startedAt,
      sync: true,
    },
  });
}

/**
 * Uploads a run directory (offline run, or one whose process died) to a server. Idempotent:
 * the server says how far it already has each writer's batches and only the rest is sent,
 * so a second sync sends nothing. A writer that ended without a recorded end (killed) gets
 * a `crashed` end appended to its WAL first, so the run does not stay "running" forever.
 */
export async function syncRunDir(dir: string, opts: { host?: string; apiKey?: string; timeoutMs?: number } = {}): Promise<SyncResult> {
  const meta = readRunMeta(dir);
  if (!meta) throw new Error(`${dir} is not a Heron run directory (no run.json)`);
  const host = (opts.host ?? process.env.HERON_HOST ?? meta.host).replace(/\/+$/, "");
  const apiKey = opts.apiKey ?? process.env.HERON_API_KEY;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const result: SyncResult = { runId: meta.id, url: null, writers: [], artifacts: { sent: [], failed: [] } };
  for (const writer of listWriters(dir)) {
    const wmeta = readWriterMeta(dir, writer);
    if (processAlive(wmeta?.pid) && !wmeta?.state) {
      result.writers.push({ writer, sent: 0, skipped: `process ${wmeta?.pid} is still logging to it` });
      continue;
    }
    // a process resuming the run (or another sync) may be uploading it right now
    if (!claimWriter(dir, writer)) {
      result.writers.push({ writer, sent: 0, skipped: `process ${claimant(dir, writer) ?? "?"} is uploading it` });
      continue;
    }
    const wal = new WriteAheadLog(dir, writer);
    let endedAs = wmeta?.state;
    if (!endedAs) {
      wal.append({
        seq: wal.lastSeq() + 1,
        points: [],
        end: { state: "crashed", error: "the process ended without finishing the run (uploaded by heron sync)" },
      });
      await wal.written();
      endedAs = "crashed";
      writeWriterMeta(dir, writer, { rank: wmeta?.rank ?? 0, state: endedAs, endedAt: Date.now() });
    }
    const sender = recordedWriterSender(meta, wal, wmeta?.rank ?? 0, { host, apiKey });
    try {
      let timer: NodeJS.Timeout | undefined;
      const ack = await Promise.race([
        sender.start(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`cannot reach ${host}`)), 30_000))),
      ]).finally(() => clearTimeout(timer));
      result.url = ack.url;
      const before = sender.ackedSeq;
      sender.replayFromDisk(wal.lastSeq());
      if (!(await sender.drained(timeoutMs)))
        throw new Error(`the server did not acknowledge everything within ${Math.round(timeoutMs / 1000)} s; run sync again`);
      writeWriterMeta(dir, writer, { rank: wmeta?.rank ?? 0, ackedSeq: sender.ackedSeq });
      result.writers.push({ writer, sent: Math.max(0, sender.ackedSeq - before), endedAs });
    } finally {
      sender.close();
      wal.close();
      releaseWriter(dir, writer);
    }
  }
  // after the writers: the run exists on the server now, so its artifacts can name it as producer
  result.artifacts = await sendPendingArtifacts(dir, { host, apiKey });
  return result;
}
