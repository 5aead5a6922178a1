import { claimant, claimWriter, releaseWriter } from "./claim";
import { processAlive, readWriterMeta, type RunMeta, writeWriterMeta } from "./run-dir";
import type { Sender } from "./sender";
import { recordedWriterSender } from "./sync";
import { lastLoggedStep, listWriters, WriteAheadLog } from "./wal";

/**
 * Leftovers of earlier processes of a run, uploaded by the process that resumes it.
 *
 * A process SIGKILLed (or one that lost the network and exited before the server acked
 * everything) leaves batches in its writer's log that only `heron sync` would upload. When a
 * new process resumes the same run from the same directory, it uploads them itself, exactly
 * as sync would (the server says how far it has each writer; the rest is sent once), except:
 * - no `crashed` end is appended and a recorded end is left out: the resumed run goes on,
 *   and the new process decides how it ends;
 * - the new process's own batches wait until the leftovers are acknowledged (Sender.hold),
 *   so its points and a rewind land after the old ones, as they were logged.
 */
export class Takeover {
  /** resolves once the server answered every leftover writer's run:init (or refused it) */
  readonly ready: Promise<void>;
  /** resolves once the server acknowledged every leftover batch */
  readonly done: Promise<void>;
  private readonly parts: { sender: Sender; wal: WriteAheadLog; writer: string }[] = [];

  constructor(
    private readonly dir: string,
    meta: RunMeta,
    writers: string[],
    opts: { host: string; apiKey?: string },
  ) {
    const readies: Promise<unknown>[] = [];
    const dones: Promise<unknown>[] = [];
    for (const writer of writers) {
      // another process resuming the run at the same moment (ranks restarted together) may
      // have chosen it too: only the one holding the claim uploads it
      if (!claimWriter(dir, writer)) continue;
      const wmeta = readWriterMeta(dir, writer);
      const rank = wmeta?.rank ?? 0;
      const wal = new WriteAheadLog(dir, writer);
      const sender = recordedWriterSender(meta, wal, rank, { ...opts, dropEnd: true });
      this.parts.push({ sender, wal, writer });
      const started = sender.start().then(
        () => true,
        (err: Error) => (
          console.warn(`[heron] cannot upload what an earlier process left in ${wal.dir} (${err.message}); upload it with: npx heron sync ${dir}`),
          false
        ),
      );
      readies.push(started);
      dones.push(
        started
          .then(async (ok) => {
            if (!ok) return;
            if (wal.lastSeq() > sender.ackedSeq && !wal.read(sender.ackedSeq, sender.ackedSeq + 1).length) {
              // the server lacks batches this log no longer has (another server, or a reset one):
              // nothing sendable follows its ack, and the new process must not wait on it forever
              console.warn(`[heron] the server has ${wal.writer}'s batches up to ${sender.ackedSeq} only and ${wal.dir} starts later; not uploading it`);
              sender.close();
              wal.close();
              releaseWriter(dir, writer);
              return;
            }
            sender.replayFromDisk(wal.lastSeq());
            await sender.whenDrained();
            // uploaded: a later sync or takeover has nothing to do here, and must not end the run
            writeWriterMeta(dir, writer, { rank, state: wmeta?.state ?? "crashed", ackedSeq: sender.ackedSeq, endedAt: wmeta?.endedAt ?? Date.now() });
            sender.close();
            wal.close();
            releaseWriter(dir, writer);
          })
          .catch((err: Error) =>
            console.warn(`[heron] uploading what an earlier process left in ${wal.dir} failed (${err.message}); upload it with: npx heron sync ${dir}`),
          ),
      );
    }
    this.ready = Promise.all(readies).then(() => undefined);
    this.done = Promise.all(dones).then(() => undefined);
  }

  close(): void {
    for (const { sender, wal, writer } of this.parts) {
      sender.close();
      wal.close();
      releaseWriter(this.dir, writer);
    }
  }
}

/**
 * Writers of `dir` other than `own`, of the resuming process's `rank`, whose process is gone
 * and whose log holds batches the server may not have: not still logging, not being uploaded
 * by another live process, not recorded as fully acknowledged. Only the same rank's: those
 * hold the series this process continues (rank r logs `<key>@rank<r>`, and a rank's rewind
 * cuts its own series only), so its batches must wait for them; ranks of a job restarted
 * together each upload their own. Another rank's leftovers wait for that rank (or heron sync).
 */
export function leftoverWriters(dir: string, own: string, rank: number): string[] {
  return listWriters(dir).filter((writer) => {
    if (writer === own) return false;
    const m = readWriterMeta(dir, writer);
    if ((m?.rank ?? 0) !== rank) return false;
    if (!m?.state && (m?.pid === process.pid || processAlive(m?.pid))) return false;
    const claimedBy = claimant(dir, writer);
    if (claimedBy === process.pid || processAlive(claimedBy)) return false;
    if (m?.ackedSeq === undefined) return true;
    const wal = new WriteAheadLog(dir, writer);
    const pending = wal.lastSeq() > m.ackedSeq;
    wal.close();
    return pending;
  });
}

/** the highest training step those writers logged (see lastLoggedStep) */
export function leftoverLastStep(dir: string, writers: string[]): number | null {
  return writers.reduce<number | null>((m, w) => {
    const s = lastLoggedStep(dir, w);
    return s === null ? m : Math.max(m ?? -1, s);
  }, null);
}
