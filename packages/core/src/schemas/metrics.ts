import { z } from "zod";

import { IdSchema, MetricKeySchema, StepSchema } from "./common";

/** Max points in one ingested batch; larger batches are refused with this number in the error. */
export const MAX_POINTS_PER_BATCH = 50_000;

/**
 * A metric value: any double. NaN/±Inf cannot travel in JSON, so on the wire they are
 * the strings "NaN", "Infinity", "-Infinity" (see encodeValue/decodeValue).
 */
export const WireValueSchema = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"])]);

const PointObjectSchema = z.object({
  key: MetricKeySchema,
  step: StepSchema,
  value: WireValueSchema,
  /** wall-clock ms since epoch */
  ts: z.number().finite().nonnegative(),
});
export type WireMetricPoint = z.infer<typeof PointObjectSchema>;

/** The same rules as PointObjectSchema, as plain checks. */
function isWirePoint(p: unknown): p is WireMetricPoint {
  if (typeof p !== "object" || p === null) return false;
  const { key, step, value, ts } = p as Record<string, unknown>;
  return (
    typeof key === "string" &&
    key.length >= 1 &&
    key.length <= 512 &&
    typeof step === "number" &&
    Number.isSafeInteger(step) &&
    step >= 0 &&
    ((typeof value === "number" && Number.isFinite(value)) || value === "NaN" || value === "Infinity" || value === "-Infinity") &&
    typeof ts === "number" &&
    Number.isFinite(ts) &&
    ts >= 0
  );
}

/**
 * One point of a batch. Validated by plain checks first — ingestion validates every point,
 * and a zod object per point cost as much as JSON-parsing the batch (~0.35 µs/point) — and
 * only a point that fails them goes through the zod object, for its precise messages
 * ("points.3.step: step must be ≥ 0"). Valid input is returned as is (extra fields are ignored
 * by ingestion, not stripped).
 */
export const MetricPointSchema = z
  .custom<WireMetricPoint>(() => true)
  .check((ctx) => {
    if (isWirePoint(ctx.value)) return;
    const r = PointObjectSchema.safeParse(ctx.value);
    for (const issue of r.error?.issues ?? []) ctx.issues.push({ code: "custom", message: issue.message, path: issue.path, input: ctx.value });
  });
export type MetricPoint = { key: string; step: number; value: number; ts: number };

export function encodeValue(v: number): number | "NaN" | "Infinity" | "-Infinity" {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

export function decodeValue(v: number | "NaN" | "Infinity" | "-Infinity"): number {
  if (typeof v === "number") return v;
  return v === "NaN" ? NaN : v === "Infinity" ? Infinity : -Infinity;
}

export const SeriesQuerySchema = z.object({
  runId: IdSchema,
  key: MetricKeySchema,
  maxPoints: z.number().int().min(2).max(100_000).default(1000),
  stepMin: StepSchema.optional(),
  stepMax: StepSchema.optional(),
});
export type SeriesQuery = z.infer<typeof SeriesQuerySchema>;

/** Overlay of one key across runs. Without a step range, all runs share the union of their
 * ranges, so bucketed runs get the same bucket boundaries and overlay exactly. */
export const CompareQuerySchema = z.object({
  runIds: z.array(IdSchema).min(1).max(50),
  key: MetricKeySchema,
  maxPoints: z.number().int().min(2).max(100_000).default(1000),
  stepMin: StepSchema.optional(),
  stepMax: StepSchema.optional(),
});
export type CompareQuery = z.infer<typeof CompareQuerySchema>;

/**
 * A series answer. When `bucketed` is false, steps/values are the exact points (and `ts`
 * their wall-clock ms). When true, each entry is a bucket: `steps[i]` its last step,
 * `values[i]` (= `last[i]`) its last value, with min/max (finite values only) beside so spikes
 * are never hidden, `counts[i]` its number of points and `ts[i]` the wall-clock ms of its last
 * point (the one at `steps[i]`; rising with steps like exact points' ts, so charts can draw
 * buckets against time). Buckets are the aligned step ranges
 * [k·bucketWidth, (k+1)·bucketWidth) clipped to the query's range; `bucketWidth` is the
 * smallest power of two that gives ≤ maxPoints of them, so answers are deterministic and
 * runs compared over the same range share bucket boundaries. Empty buckets are left out.
 * Non-finite values come back as null in `values` (gaps).
 */
export type Series = {
  key: string;
  bucketed: boolean;
  steps: number[];
  values: (number | null)[];
  min?: (number | null)[];
  max?: (number | null)[];
  last?: (number | null)[];
  ts?: number[];
  counts?: number[];
  bucketWidth?: number;
  /** set by compare */
  runId?: string;
};
