import { z } from "zod";
import { IdSchema, MetricKeySchema, StepSchema } from "./common";

/** Max points in one ingested batch; larger batches are refused with this number in the error. */
export const MAX_POINTS_PER_BATCH = 50_000;

/**
 * A metric value: any double. NaN/±Inf cannot travel in JSON, so on the wire they are
 * the strings "NaN", "Infinity", "-Infinity" (see encodeValue/decodeValue).
 */
export const WireValueSchema = z.union([
  z.number(),
  z.enum(["NaN", "Infinity", "-Infinity"]),
]);

export const MetricPointSchema = z.object({
  key: MetricKeySchema,
  step: StepSchema,
  value: WireValueSchema,
  /** wall-clock ms since epoch */
  ts: z.number().finite().nonnegative(),
});
export type WireMetricPoint = z.infer<typeof MetricPointSchema>;
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
 * are never hidden, and `counts[i]` its number of points. Buckets are the aligned step ranges
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
