// One uploader per leftover writer log: a process resuming a run (takeover.ts) and `heron
// sync` both upload what dead processes left in a run directory; two of them at once would
// send every batch twice, and a leftover rewind could land after the other's new points.
import fs from "node:fs";
import path from "node:path";

import { processAlive } from "./run-dir";

const claimFile = (dir: string, writer: string) => path.join(dir, "wal", `${writer}.takeover`);

export function claimant(dir: string, writer: string): number | undefined {
  try {
    return Number(fs.readFileSync(claimFile(dir, writer), "utf8")) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claims a leftover writer for this process: `wal/<writer>.takeover` holding our pid, created
 * exclusively (O_EXCL), so of two processes resuming the run at once exactly one uploads it.
 * A claim whose process is gone is free again. False when a live process (this one included:
 * two inits of the run here) holds it.
 */
export function claimWriter(dir: string, writer: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(claimFile(dir, writer), String(process.pid), { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") return false;
    }
    const pid = claimant(dir, writer);
    if (pid === process.pid || processAlive(pid)) return false;
    fs.rmSync(claimFile(dir, writer), { force: true }); // its process died: free
  }
  return false;
}

/** drops this process's claim (uploaded, skipped, or the run closed) */
export function releaseWriter(dir: string, writer: string): void {
  if (claimant(dir, writer) === process.pid) fs.rmSync(claimFile(dir, writer), { force: true });
}
