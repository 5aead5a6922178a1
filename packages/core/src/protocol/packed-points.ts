import { z } from "zod";

import { MetricKeySchema } from "../schemas/common";
import { MAX_POINTS_PER_BATCH, type WireMetricPoint } from "../schemas/metrics";

/**
 * The SDK's wire form of a batch's points: the distinct keys once, and one binary buffer of
 * columns — steps, values and timestamps as little-endian float64, then each point's key index
 * as little-endian uint32 (28 bytes a point). Hand-written rather than a serialisation library
 * because it is the product's own protocol and the hot path of every training step: filling it
 * costs a few ns a point, where JSON of one object per point (plus socket.io's walk over the
 * payload looking for binaries) cost ~2 µs — the largest share of what logging cost the
 * training process. Values are plain doubles here, so NaN/±Inf need no string encoding.
 * Browser-safe (Uint8Array + DataView); socket.io carries the buffer as a binary attachment.
 */
export const PACKED_POINT_BYTES = 28;

export const PackedPointsSchema = z.object({
  keys: z.array(MetricKeySchema).max(MAX_POINTS_PER_BATCH),
  data: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "packed.data must be binary (Uint8Array)"),
});
export type PackedPoints = z.infer<typeof PackedPointsSchema>;

/** a point to pack: [key, step, value, ts]; value may be the WAL's "NaN"/"Infinity"/"-Infinity" */
export type PackablePoint = readonly [string, number, number | string, number];

export function packPoints(points: readonly PackablePoint[]): PackedPoints {
  const n = points.length;
  const data = new Uint8Array(n * PACKED_POINT_BYTES);
  const view = new DataView(data.buffer);
  const keys: string[] = [];
  const index = new Map<string, number>();
  const valuesAt = n * 8;
  const tsAt = n * 16;
  const keysAt = n * 24;
  for (let i = 0; i < n; i++) {
    const [key, step, value, ts] = points[i]!;
    let k = index.get(key);
    if (k === undefined) {
      k = keys.length;
      keys.push(key);
      index.set(key, k);
    }
    view.setFloat64(i * 8, step, true);
    view.setFloat64(valuesAt + i * 8, typeof value === "number" ? value : Number(value), true);
    view.setFloat64(tsAt + i * 8, ts, true);
    view.setUint32(keysAt + i * 4, k, true);
  }
  return { keys, data };
}

/**
 * Packed → one object per point, with the same rules as MetricPointSchema (step a safe
 * integer ≥ 0, ts finite ≥ 0, any double as value); the first offence is returned as an error.
 */
export function unpackPoints(p: PackedPoints): { points: WireMetricPoint[] } | { error: string } {
  const bytes = p.data.byteLength;
  if (bytes % PACKED_POINT_BYTES !== 0) return { error: `packed.data must hold ${PACKED_POINT_BYTES} bytes per point, got ${bytes} bytes` };
  const n = bytes / PACKED_POINT_BYTES;
  if (n > MAX_POINTS_PER_BATCH) return { error: `a batch may hold at most ${MAX_POINTS_PER_BATCH} points` };
  const view = new DataView(p.data.buffer, p.data.byteOffset, bytes);
  const points = new Array<WireMetricPoint>(n);
  for (let i = 0; i < n; i++) {
    const step = view.getFloat64(i * 8, true);
    const value = view.getFloat64(n * 8 + i * 8, true);
    const ts = view.getFloat64(n * 16 + i * 8, true);
    const k = view.getUint32(n * 24 + i * 4, true);
    if (k >= p.keys.length) return { error: `packed point ${i}: key index ${k} is not in keys (${p.keys.length} keys)` };
    if (!Number.isSafeInteger(step) || step < 0) return { error: `packed point ${i} (${p.keys[k]}): step must be an integer in [0, 2^53), got ${step}` };
    if (!Number.isFinite(ts) || ts < 0) return { error: `packed point ${i} (${p.keys[k]}): ts must be a finite number ≥ 0, got ${ts}` };
    points[i] = { key: p.keys[k]!, step, value, ts };
  }
  return { points };
}
