// Two processes resuming the same run from the same directory at once (ranks of a job all
// restarted together) must not both upload a dead writer's leftovers: each batch would go out
// twice, and a leftover rewind could be applied after the other process's new points.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { claimWriter, releaseWriter } from "./claim";
import { writeRunMeta, writeWriterMeta } from "./run-dir";
import { syncRunDir } from "./sync";
import { leftoverLastStep, leftoverWriters } from "./takeover";
import { WriteAheadLog } from "./wal";

/** a pid no process has any more */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid;

async function deadWriter(dir: string, writer: string, rank: number, step: number) {
  const wal = new WriteAheadLog(dir, writer);
  wal.append({ seq: 1, points: [[rank ? `loss@rank${rank}` : "loss", step, 0.5, 1]] });
  await wal.written();
  wal.close();
  writeWriterMeta(dir, writer, { rank, pid: deadPid() });
}
async function runDirWithDeadWriter() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "heron-takeover-"));
  writeRunMeta(dir, { id: "r1", project: "p", host: "http://127.0.0.1:9", mode: "online", startedAt: 1 });
  await deadWriter(dir, "0-dead", 0, 1);
  return dir;
}
const claimFile = (dir: string) => path.join(dir, "wal", "0-dead.takeover");

describe("taking over a dead writer's leftovers", () => {
  it("one process at a time: a live claim keeps others off, a dead claimant's is taken", async () => {
    const dir = await runDirWithDeadWriter();
    expect(leftoverWriters(dir, "0-own", 0)).toEqual(["0-dead"]);
    // another live process claimed it first (the parent of this test process stands in for it)
    fs.writeFileSync(claimFile(dir), String(process.ppid));
    expect(claimWriter(dir, "0-dead")).toBe(false);
    expect(leftoverWriters(dir, "0-own", 0)).toEqual([]);
    // heron sync leaves it to that process too (it would send every batch a second time)
    const synced = await syncRunDir(dir, { host: "http://127.0.0.1:9" });
    expect(synced.writers).toEqual([{ writer: "0-dead", sent: 0, skipped: `process ${process.ppid} is uploading it` }]);
    // that process died before finishing: the claim is free again
    fs.writeFileSync(claimFile(dir), String(deadPid()));
    expect(leftoverWriters(dir, "0-own", 0)).toEqual(["0-dead"]);
    expect(claimWriter(dir, "0-dead")).toBe(true);
    // a second take-over inside this very process (two inits of the run) does not claim it twice
    expect(claimWriter(dir, "0-dead")).toBe(false);
    releaseWriter(dir, "0-dead");
    expect(fs.existsSync(claimFile(dir))).toBe(false);
    expect(claimWriter(dir, "0-dead")).toBe(true);
    releaseWriter(dir, "0-dead");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("each rank takes over its own rank's writers: they hold its series, and its batches wait for them", async () => {
    const dir = await runDirWithDeadWriter();
    await deadWriter(dir, "1-dead", 1, 900);
    expect(leftoverWriters(dir, "0-own", 0)).toEqual(["0-dead"]);
    expect(leftoverWriters(dir, "1-own", 1)).toEqual(["1-dead"]);
    // rank 0 continues after its own steps, not after rank 1's
    expect(leftoverLastStep(dir, leftoverWriters(dir, "0-own", 0))).toBe(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
