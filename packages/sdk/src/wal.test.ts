import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { packPoints, unpackPoints } from "@heron/core";
import { describe, expect, it } from "vitest";

import { collapse } from "./console-capture";
import { toWire } from "./sender";
import { lastLoggedStep, WriteAheadLog } from "./wal";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "heron-wal-"));

describe("write-ahead log", () => {
  it("reads back what was appended, in order, and survives a torn last line", async () => {
    const dir = tmp();
    const wal = new WriteAheadLog(dir, "0-a");
    for (let seq = 1; seq <= 5; seq++) wal.append({ seq, points: [["loss", seq, seq / 10, 1]] });
    await wal.written();
    // a process killed mid-write leaves half a line behind
    const file = fs.readdirSync(path.join(dir, "wal")).find((f) => f.endsWith(".jsonl"))!;
    fs.appendFileSync(path.join(dir, "wal", file), '{"seq":6,"points":[["loss",6');
    const again = new WriteAheadLog(dir, "0-a");
    expect(again.lastSeq()).toBe(5);
    expect(again.read(2).map((b) => b.seq)).toEqual([3, 4, 5]);
    expect(again.read(0)[4]!.points).toEqual([["loss", 5, 0.5, 1]]);
    wal.close();
    again.close();
  });

  it("keeps packed points (base64 in the line) and still reads the tuple lines of earlier versions", async () => {
    const dir = tmp();
    const wal = new WriteAheadLog(dir, "0-p");
    wal.append({ seq: 1, points: [["loss", 3, "NaN", 1]] }); // as an earlier SDK wrote it
    wal.append({
      seq: 2,
      packed: packPoints([
        ["loss", 4, Infinity, 2],
        ["sys/h/cpu", 90, 1, 2],
      ]),
    });
    await wal.written();
    const [old, cur] = new WriteAheadLog(dir, "0-p").read(0);
    expect(cur!.packed!.data).toBeInstanceOf(Uint8Array);
    const wire = [old!, cur!].map((b) => unpackPoints(toWire(b, "run1", "0-p").packed));
    expect(wire).toEqual([
      { points: [{ key: "loss", step: 3, value: NaN, ts: 1 }] },
      {
        points: [
          { key: "loss", step: 4, value: Infinity, ts: 2 },
          { key: "sys/h/cpu", step: 90, value: 1, ts: 2 },
        ],
      },
    ]);
    expect(lastLoggedStep(dir, "0-p")).toBe(4); // sys/ series are stepped in seconds: not counted
    wal.close();
  });

  it("trims acknowledged segments but keeps the open one (it remembers the last seq)", async () => {
    const dir = tmp();
    const wal = new WriteAheadLog(dir, "0-b");
    const big = Array.from({ length: 30_000 }, (_, i): [string, number, number, number] => ["k", i, i, 0]);
    for (let seq = 1; seq <= 20; seq++) {
      wal.append({ seq, points: big }); // ~0.5 MB each → several segments
      await wal.written();
    }
    const before = fs.readdirSync(path.join(dir, "wal")).filter((f) => f.endsWith(".jsonl")).length;
    expect(before).toBeGreaterThan(1);
    wal.trim(20);
    const left = fs.readdirSync(path.join(dir, "wal")).filter((f) => f.endsWith(".jsonl"));
    expect(left.length).toBe(1);
    wal.close();
    expect(new WriteAheadLog(dir, "0-b").lastSeq()).toBe(20);
  });

  it("flushSync writes queued batches before the process goes down", () => {
    const dir = tmp();
    const wal = new WriteAheadLog(dir, "0-c");
    wal.append({ seq: 1, points: [] });
    wal.append({ seq: 2, points: [], end: { state: "crashed", error: "boom" } });
    wal.flushSync();
    expect(new WriteAheadLog(dir, "0-c").read(0).map((b) => b.end?.state ?? null)).toEqual([null, "crashed"]);
  });
});

describe("console capture", () => {
  it("collapses carriage-return progress bars to their last state", () => {
    expect(collapse("10%\r50%\r100%")).toBe("100%");
    expect(collapse("epoch 1 done\r")).toBe("epoch 1 done");
    expect(collapse("plain")).toBe("plain");
  });
});
