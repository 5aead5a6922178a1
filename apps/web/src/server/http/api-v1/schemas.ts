import {
  IdSchema,
  JsonObjectSchema,
  MAX_POINTS_PER_BATCH,
  MetricKeySchema,
  ProjectNameSchema,
  RunEndSchema,
  RunLogsSchema,
  RunRewindSchema,
  RunStatusSchema,
  RunTextSchema,
  StepSchema,
} from "@heron/core";
import { z } from "zod";

/**
 * The request and response bodies of HTTP API v1 (clients/python/PROTOCOL.md). They are the
 * validators AND the source of the OpenAPI document (openapi.ts), so the two cannot drift.
 * The socket protocol's own schemas (RunInitSchema, RunLogSchema) still run afterwards: one
 * set of limits for both transports.
 */

/** a metric value: any finite number, or a non-finite one spelled as a string (JSON has no NaN); null reads as NaN */
const WireValue = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"]), z.null()]);
const Ts = z.number().finite().nonnegative().meta({ description: "wall-clock epoch milliseconds" });

export const HttpPointSchema = z
  .object({ key: MetricKeySchema, step: StepSchema, value: WireValue, ts: Ts })
  .meta({ id: "Point", example: { key: "train/loss", step: 12, value: 0.31, ts: 1718000000123 } });

export const HttpImageSchema = z
  .object({
    key: MetricKeySchema,
    step: StepSchema,
    caption: z.string().max(1000).optional(),
    width: z.number().int().min(1).max(65_535),
    height: z.number().int().min(1).max(65_535),
    png: z.string().meta({ contentEncoding: "base64", description: "PNG bytes, base64" }),
    ts: Ts,
  })
  .meta({ id: "Image" });

const WriterSchema = z.string().min(1).max(100).meta({ description: "this process's writer id; sequences are per (run, writer)" });

export const CreateRunSchema = z
  .object({
    project: ProjectNameSchema,
    id: IdSchema.optional().meta({ description: "client-chosen run id (send it with resume: allow to make this request idempotent)" }),
    resume: z.enum(["never", "allow", "must"]).default("never"),
    name: z.string().min(1).max(200).optional(),
    config: JsonObjectSchema.optional(),
    tags: z.array(z.string().min(1).max(100)).max(100).optional(),
    group: z.string().min(1).max(200).optional(),
    notes: z.string().max(10_000).optional(),
    environment: JsonObjectSchema.optional(),
    writer: WriterSchema,
    startedAt: z.number().finite().nonnegative().optional().meta({ description: "ms; an offline run keeps its real start" }),
    rank: z.number().int().min(0).optional(),
    host: z.string().max(255).optional(),
    sync: z.boolean().optional().meta({ description: "an upload of a recorded run: a run that already ended keeps its final state" }),
  })
  .meta({ id: "CreateRun" });

export const CreateRunResponseSchema = z
  .object({
    runId: z.string(),
    projectId: z.string(),
    resumed: z.boolean(),
    lastSeq: z.number().int().meta({ description: "highest batch seq stored from this writer (0: none)" }),
    lastStep: z.number().int().nullable().meta({ description: "highest step of the run's points" }),
    url: z.string(),
    status: z.string().optional(),
    startedAt: z.number().optional(),
  })
  .meta({ id: "CreateRunResponse" });

export const BatchSchema = z
  .object({
    writer: WriterSchema,
    seq: z.number().int().min(1).meta({ description: "1, 2, 3 … per writer, no gaps" }),
    points: z.array(HttpPointSchema).max(MAX_POINTS_PER_BATCH).optional(),
    packed: z
      .object({
        keys: z.array(MetricKeySchema).max(MAX_POINTS_PER_BATCH),
        data: z
          .string()
          .optional()
          .meta({ contentEncoding: "base64", description: "packed columns (packed-points.ts), base64; in the binary form the bytes follow the header" }),
      })
      .optional()
      .meta({ description: "points in the TS SDK's column form, instead of points" }),
    rewind: RunRewindSchema.optional(),
    texts: z.array(RunTextSchema).max(1000).optional(),
    images: z.array(HttpImageSchema).max(100).optional(),
    logs: RunLogsSchema.optional(),
    config: JsonObjectSchema.optional().meta({ description: "merged into the run's config" }),
    summary: JsonObjectSchema.optional().meta({ description: "merged into the run's summary" }),
    environment: JsonObjectSchema.optional().meta({ description: "merged into the captured environment" }),
    end: RunEndSchema.optional().meta({ description: "the run's end, applied after everything else in the batch" }),
  })
  .meta({ id: "Batch" });
export type HttpBatch = z.infer<typeof BatchSchema>;

export const BatchResponseSchema = z
  .object({
    ackSeq: z.number().int().meta({ description: "highest contiguous seq stored from this writer" }),
    written: z.number().int().meta({ description: "points newly stored by this request" }),
  })
  .meta({ id: "BatchResponse" });

export const FinishSchema = z
  .object({ state: z.enum(["finished", "crashed", "aborted"]), error: z.string().max(20_000).optional(), summary: JsonObjectSchema.optional() })
  .meta({ id: "Finish" });

export const ConfigSchema = z.object({ config: JsonObjectSchema }).meta({ id: "ConfigUpdate" });

export const RunSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    project: z.string(),
    name: z.string(),
    status: RunStatusSchema,
    config: JsonObjectSchema.nullable(),
    summary: JsonObjectSchema.nullable(),
    tags: z.array(z.string()),
    group: z.string().nullable(),
    error: z.string().nullable(),
    startedAt: z.number(),
    finishedAt: z.number().nullable(),
    url: z.string(),
  })
  .meta({ id: "Run" });

export const OkSchema = z.object({ ok: z.literal(true) }).meta({ id: "Ok" });
export const ErrorSchema = z.object({ error: z.string() }).meta({ id: "Error" });
export const RunIdParamSchema = z.object({ runId: IdSchema });
