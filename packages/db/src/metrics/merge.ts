import { AppError, type MetricPoint } from "@heron/core";

import { CHUNK_CAP, concatPoints, decodeChunk, emptyPoints, encodeChunk, type Points } from "./codec";
import type { ChunkRow } from "./ops";

const MAX_KEY = 512;

/**
 * Validates a batch and groups it by key, each group sorted by step with duplicates removed.
 * Within a batch the first occurrence of a step wins — the same rule as across batches
 * (first write wins), so splitting or merging batches never changes the result.
 */
export function normalizeBatch(points: readonly MetricPoint[]): Map<string, Points> {
  const idx = new Map<string, number[]>();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (typeof p.key !== "string" || p.key.length === 0 || p.key.length > MAX_KEY)
      throw new AppError("BAD_REQUEST", `points[${i}]: metric key must be 1–${MAX_KEY} characters`);
    if (!Number.isSafeInteger(p.step) || p.step < 0)
      throw new AppError("BAD_REQUEST", `points[${i}] (${p.key}): step must be an integer in [0, 2^53), got ${p.step}`);
    if (typeof p.value !== "number") throw new AppError("BAD_REQUEST", `points[${i}] (${p.key}): value must be a number`);
    if (typeof p.ts !== "number" || !Number.isFinite(p.ts)) throw new AppError("BAD_REQUEST", `points[${i}] (${p.key}): ts must be a finite number`);
    let list = idx.get(p.key);
    if (!list) idx.set(p.key, (list = []));
    list.push(i);
  }
  const out = new Map<string, Points>();
  for (const [key, list] of idx) {
    let sorted = true;
    for (let j = 1; j < list.length && sorted; j++) sorted = points[list[j]!]!.step > points[list[j - 1]!]!.step;
    // stable: equal steps keep batch order, so the first occurrence survives the dedupe below
    if (!sorted) list.sort((a, b) => points[a]!.step - points[b]!.step || a - b);
    const p = emptyPoints(list.length);
    let n = 0;
    for (const i of list) {
      const pt = points[i]!;
      if (n > 0 && p.steps[n - 1] === pt.step) continue;
      p.steps[n] = pt.step;
      p.values[n] = pt.value;
      p.ts[n] = pt.ts;
      n++;
    }
    out.set(key, n === list.length ? p : { steps: p.steps.subarray(0, n), values: p.values.subarray(0, n), ts: p.ts.subarray(0, n) });
  }
  return out;
}

export type KeyWritePlan = { deletes: number[]; inserts: ChunkRow[]; inserted: Points };

/**
 * Merges new points into the chunks they touch. `existing` are those chunks (sorted, disjoint);
 * points already stored win (idempotent, first write wins). The merged run is re-split into
 * full chunks; a chunk that comes out identical (same start and count, nothing new in it) is
 * left alone so that appending behind a full tail chunk does not rewrite it.
 */
export function planKeyWrite(key: string, existing: ChunkRow[], incoming: Points): KeyWritePlan {
  const old = concatPoints(existing.length ? existing.map((c) => decodeChunk(c.data, c.count)) : [emptyPoints()]);
  const n = old.steps.length + incoming.steps.length;
  const merged = emptyPoints(n);
  const isNew = new Uint8Array(n);
  const ins = emptyPoints(incoming.steps.length);
  let i = 0;
  let j = 0;
  let m = 0;
  let k = 0;
  while (i < old.steps.length || j < incoming.steps.length) {
    const so = i < old.steps.length ? old.steps[i]! : Infinity;
    const sn = j < incoming.steps.length ? incoming.steps[j]! : Infinity;
    if (so <= sn) {
      merged.steps[m] = so;
      merged.values[m] = old.values[i]!;
      merged.ts[m++] = old.ts[i++]!;
      if (so === sn) j++; // already stored: the first write wins
    } else {
      merged.steps[m] = sn;
      merged.values[m] = incoming.values[j]!;
      merged.ts[m] = incoming.ts[j]!;
      isNew[m++] = 1;
      ins.steps[k] = sn;
      ins.values[k] = incoming.values[j]!;
      ins.ts[k++] = incoming.ts[j++]!;
    }
  }
  const inserted = { steps: ins.steps.subarray(0, k), values: ins.values.subarray(0, k), ts: ins.ts.subarray(0, k) };
  if (k === 0) return { deletes: [], inserts: [], inserted };
  const kept = new Map(existing.map((c) => [c.startStep, c.count]));
  const deletes = new Set(existing.map((c) => c.startStep));
  const inserts: ChunkRow[] = [];
  for (let a = 0; a < m; a += CHUNK_CAP) {
    const b = Math.min(m, a + CHUNK_CAP);
    const start = merged.steps[a]!;
    if (kept.get(start) === b - a && isNew.subarray(a, b).indexOf(1) < 0) {
      deletes.delete(start);
      continue;
    }
    inserts.push({ key, startStep: start, endStep: merged.steps[b - 1]!, count: b - a, data: encodeChunk(merged, a, b) });
  }
  return { deletes: [...deletes], inserts, inserted };
}
