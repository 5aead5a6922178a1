import os from "node:os";

import { lowerBound } from "@heron/core";

/**
 * Packed points of one chunk. A chunk's BLOB is little-endian float64 × 3·n: the n steps
 * (integers < 2^53 are exact in a double), then the n values (NaN/±Inf kept bit-exact, which
 * a SQLite REAL column cannot do: it turns NaN into NULL), then the n wall-clock ts (ms).
 */
export type Points = { steps: Float64Array; values: Float64Array; ts: Float64Array };

// Float64Array uses the platform's byte order; every platform Node ships on is little-endian,
// and we refuse to write a file another machine would misread.
if (os.endianness() !== "LE") throw new Error("the metrics store needs a little-endian platform");

/**
 * Max points per chunk (6 KiB). Appends rewrite the tail chunk, so the cap bounds that write
 * amplification (measured: 1,024 made PostgreSQL ingest byte-bound); a 1M-point series is
 * still only ~4,000 rows, and queries read rollups, not chunks.
 */
export const CHUNK_CAP = 256;

export function emptyPoints(n = 0): Points {
  return { steps: new Float64Array(n), values: new Float64Array(n), ts: new Float64Array(n) };
}

export function encodeChunk(p: Points, from: number, to: number): Buffer {
  const n = to - from;
  const out = new Float64Array(3 * n);
  out.set(p.steps.subarray(from, to), 0);
  out.set(p.values.subarray(from, to), n);
  out.set(p.ts.subarray(from, to), 2 * n);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function decodeChunk(data: Uint8Array, n: number): Points {
  if (data.byteLength !== 24 * n) throw new Error(`corrupt metric chunk: ${data.byteLength} bytes for ${n} points`);
  // drivers hand out Buffers at arbitrary offsets (pooled); Float64Array needs 8-byte alignment
  const all = data.byteOffset % 8 === 0 ? new Float64Array(data.buffer, data.byteOffset, 3 * n) : new Float64Array(new Uint8Array(data).buffer);
  return { steps: all.subarray(0, n), values: all.subarray(n, 2 * n), ts: all.subarray(2 * n, 3 * n) };
}

export function concatPoints(parts: Points[]): Points {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.steps.length, 0);
  const out = emptyPoints(n);
  let o = 0;
  for (const p of parts) {
    out.steps.set(p.steps, o);
    out.values.set(p.values, o);
    out.ts.set(p.ts, o);
    o += p.steps.length;
  }
  return out;
}

/** the points with lo ≤ step ≤ hi */
export function slicePoints(p: Points, lo: number, hi: number): Points {
  const a = lowerBound(p.steps, lo);
  const b = lowerBound(p.steps, hi + 1);
  return { steps: p.steps.subarray(a, b), values: p.values.subarray(a, b), ts: p.ts.subarray(a, b) };
}
