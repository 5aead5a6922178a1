import { z } from "zod";

import { IdSchema, JsonObjectSchema, MetricKeySchema, ProjectNameSchema, type RunStatusSchema, StepSchema } from "../schemas/common";
import { type JobSpecSchema } from "../schemas/job-spec";
import { MAX_POINTS_PER_BATCH, MetricPointSchema } from "../schemas/metrics";
import { PackedPointsSchema, unpackPoints } from "./packed-points";

/**
 * socket.io protocol between the server and its three kinds of clients:
 * the tracking SDK (a training process), runner daemons, and dashboards.
 * Every payload carries `v`; the server refuses versions it does not speak.
 */
export const PROTOCOL_VERSION = 1 as const;
const V = z.literal(PROTOCOL_VERSION, { error: `protocol version must be ${PROTOCOL_VERSION}` });

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: string };

// ---------- SDK → server ----------
export const RunInitSchema = z.object({
  v: V,
  project: ProjectNameSchema,
  id: IdSchema.optional(),
  resume: z.enum(["never", "allow", "must"]).default("never"),
  name: z.string().min(1).max(200).optional(),
  config: JsonObjectSchema.optional(),
  tags: z.array(z.string().min(1).max(100)).max(100).optional(),
  group: z.string().min(1).max(200).optional(),
  notes: z.string().max(10_000).optional(),
  host: z.string().max(255).optional(),
  environment: JsonObjectSchema.optional(),
  rank: z.number().int().min(0).optional(),
  /** the sender's writer id (see RunLogSchema.writer); the ack's lastSeq is for this writer */
  writer: z.string().min(1).max(100).optional(),
  /** wall-clock ms when the run started on the client (offline runs keep their original start) */
  startedAt: z.number().finite().nonnegative().optional(),
  /** `heron sync` uploading a recorded run dir: a run already finished keeps its final state */
  sync: z.boolean().optional(),
});
export type RunInit = z.infer<typeof RunInitSchema>;
export type RunInitAck = Ack<{
  runId: string;
  projectId: string;
  resumed: boolean;
  lastStep: number | null;
  lastSeq: number;
  url: string;
  status?: string;
  startedAt?: number;
}>;

// Records beside the points of a batch. They travel inside the same sequenced batch as the
// points (one WAL line = one batch = one ack), so a replayed batch is applied exactly once
// and in order with the points around it.
/** base64 characters of the image one text sample may carry (a thumbnail beside a VLM answer, ~190 KiB of PNG) */
export const MAX_TEXT_IMAGE_BASE64 = 256 * 1024;
/** an image beside a text sample: a PNG as base64 (the dashboard shows it only as a data:image/png URL) */
export const TextSampleImageSchema = z
  .object({
    width: z.number().int().min(1).max(4096),
    height: z.number().int().min(1).max(4096),
    png: z
      .string()
      .max(MAX_TEXT_IMAGE_BASE64, `a text sample's image may be at most ${MAX_TEXT_IMAGE_BASE64} base64 characters`)
      // "iVBORw0KGgo" is the PNG signature in base64: anything else is not shown, so it is not stored
      .regex(/^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/, "image.png must be a base64-encoded PNG"),
  })
  .strict();
export const RunTextSchema = z.object({
  key: MetricKeySchema,
  step: StepSchema,
  rows: z
    .array(z.object({ text: z.string().max(100_000), caption: z.string().max(1000).optional(), image: TextSampleImageSchema.optional() }))
    .min(1)
    .max(1000),
  ts: z.number().finite().nonnegative(),
});
export type RunText = z.infer<typeof RunTextSchema>;

/** max bytes of one image (PNG) */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
export const RunImageSchema = z.object({
  key: MetricKeySchema,
  step: StepSchema,
  caption: z.string().max(1000).optional(),
  width: z.number().int().min(1).max(65_535),
  height: z.number().int().min(1).max(65_535),
  /** PNG bytes (binary over socket.io; base64 in the client's write-ahead log) */
  png: z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, "png must be binary PNG bytes")
    .refine((v) => v.byteLength <= MAX_IMAGE_BYTES, `an image may be at most ${MAX_IMAGE_BYTES} bytes`),
  ts: z.number().finite().nonnegative(),
});
export type RunImage = z.infer<typeof RunImageSchema>;

/** what one batch may carry beside its points: bounds the memory one message costs the server */
export const MAX_BATCH_IMAGE_BYTES = 16 * 1024 * 1024;
export const MAX_BATCH_TEXT_CHARS = 4 * 1024 * 1024;
export const MAX_BATCH_TEXT_ROWS = 10_000;
// a text sample's image counts with its base64 characters: the cap bounds the whole message
const textChars = (ts: RunText[]) =>
  ts.reduce((n, t) => n + t.rows.reduce((m, r) => m + r.text.length + (r.caption?.length ?? 0) + (r.image?.png.length ?? 0), 0), 0);

export const RunLogLineSchema = z.object({
  stream: z.enum(["stdout", "stderr", "system"]),
  line: z.string().max(10_000),
  ts: z.number().finite().nonnegative(),
});
export const RunLogsSchema = z.array(RunLogLineSchema).max(5000);
export type RunLogLine = z.infer<typeof RunLogLineSchema>;

/** drop every point after `step` before this batch's points are written (resume from a checkpoint) */
export const RunRewindSchema = z.object({ step: StepSchema });

/** `run.alert({title, text, level})`: sent to the project's `sdk.alert` rules' webhooks */
export const RunAlertSchema = z.object({
  title: z.string().min(1).max(500),
  text: z.string().max(10_000),
  level: z.enum(["info", "warn", "error"]).default("info"),
  ts: z.number().finite().nonnegative(),
});
export type RunAlert = z.output<typeof RunAlertSchema>;

export const RunEndSchema = z.object({ state: z.enum(["finished", "crashed", "aborted"]), error: z.string().max(20_000).optional() });

export const RunLogSchema = z
  .object({
    v: V,
    runId: IdSchema,
    /** per-run, per-sender sequence number of this batch (1, 2, 3 …) */
    seq: z.number().int().min(1),
    /** identifies one writer (a process / rank) so sequences of ranks don't collide */
    writer: z.string().min(1).max(100).default("0"),
    /** points as objects (any client); the SDK sends `packed` instead — one of the two */
    points: z.array(MetricPointSchema).max(MAX_POINTS_PER_BATCH, `a batch may hold at most ${MAX_POINTS_PER_BATCH} points`).optional(),
    /** points in the SDK's binary column form (see packed-points.ts) */
    packed: PackedPointsSchema.optional(),
    rewind: RunRewindSchema.optional(),
    texts: z
      .array(RunTextSchema)
      .max(1000)
      .refine((ts) => ts.reduce((n, t) => n + t.rows.length, 0) <= MAX_BATCH_TEXT_ROWS, `texts of one batch may hold at most ${MAX_BATCH_TEXT_ROWS} rows`)
      .refine((ts) => textChars(ts) <= MAX_BATCH_TEXT_CHARS, `texts of one batch may hold at most ${MAX_BATCH_TEXT_CHARS} characters`)
      .optional(),
    images: z
      .array(RunImageSchema)
      .max(100)
      .refine(
        (ms) => ms.reduce((n, m) => n + m.png.byteLength, 0) <= MAX_BATCH_IMAGE_BYTES,
        `images of one batch may hold at most ${MAX_BATCH_IMAGE_BYTES} bytes`,
      )
      .optional(),
    logs: RunLogsSchema.optional(),
    /** merged into the run's config (rank 0 only) */
    config: JsonObjectSchema.optional(),
    /** merged into the run's summary */
    summary: JsonObjectSchema.optional(),
    /** merged into the run's captured environment (e.g. the tfjs backend once it is known) */
    environment: JsonObjectSchema.optional(),
    /** the run's end: applied after everything else in the batch */
    end: RunEndSchema.optional(),
    /** alerts raised by the script (optional: older clients never send it) */
    alerts: z.array(RunAlertSchema).max(100).optional(),
  })
  // what the server works with: always `points` as objects
  .transform(({ packed, ...batch }, ctx) => {
    if (!packed) return { ...batch, points: batch.points ?? [] };
    if (batch.points) {
      ctx.issues.push({ code: "custom", message: "send points or packed, not both", path: ["packed"], input: packed });
      return z.NEVER;
    }
    const r = unpackPoints(packed);
    if ("error" in r) {
      ctx.issues.push({ code: "custom", message: r.error, path: ["packed"], input: packed });
      return z.NEVER;
    }
    return { ...batch, points: r.points };
  });
export type RunLog = z.output<typeof RunLogSchema>;
export type RunLogAck = Ack<{ ackSeq: number; written: number }>;

export const RunFinishSchema = z.object({
  v: V,
  runId: IdSchema,
  state: z.enum(["finished", "crashed", "aborted"]),
  error: z.string().max(20_000).optional(),
  summary: JsonObjectSchema.optional(),
});
export type RunFinish = z.infer<typeof RunFinishSchema>;

export const RunConfigUpdateSchema = z.object({ v: V, runId: IdSchema, config: JsonObjectSchema });

// ---------- dashboard ↔ server ----------
export const SubscribeSchema = z.object({ v: V, runId: IdSchema });

export type LivePointsEvent = { runId: string; points: { key: string; step: number; value: number | null; ts: number }[] };
export type RunStatusEvent = { runId: string; status: z.infer<typeof RunStatusSchema> };

// ---------- runner ↔ server ----------
export const RunnerHelloSchema = z.object({
  v: V,
  name: z.string().min(1).max(100),
  hostname: z.string().max(255),
  cpus: z.number().int().min(0),
  memoryBytes: z.number().min(0),
  backend: z.string().max(50),
  gpus: z.array(z.object({ name: z.string(), memoryBytes: z.number().min(0) })).default([]),
  slots: z.number().int().min(1).max(1024),
  queues: z.array(z.string().min(1).max(100)).min(1).default(["default"]),
  /** started with --allow-commands: the server grants it command jobs (kind "command") */
  allowCommands: z.boolean().optional(),
});
export type RunnerHello = z.infer<typeof RunnerHelloSchema>;

export type Lease = {
  jobId: string;
  runId: string;
  projectName: string;
  attempt: number;
  fencingToken: number;
  expiresAt: number;
  /** credential for the job's SDK; valid for this attempt only */
  jobToken: string;
  spec: z.infer<typeof JobSpecSchema>;
};
export const ClaimSchema = z.object({ v: V });

export const JobReportSchema = z.object({
  v: V,
  jobId: IdSchema,
  fencingToken: z.number().int().min(0),
  /** "requeued": the runner drained (SIGTERM) and stopped the job after its grace period — not the code's fault */
  status: z.enum(["running", "succeeded", "failed", "cancelled", "requeued"]),
  exitCode: z.number().int().nullable().optional(),
  error: z.string().max(100_000).optional(),
});
export type JobReport = z.infer<typeof JobReportSchema>;

export const JobLogsSchema = z.object({
  v: V,
  jobId: IdSchema,
  fencingToken: z.number().int().min(0),
  lines: z.array(z.object({ stream: z.enum(["stdout", "stderr", "system"]), line: z.string().max(10_000) })).max(5000),
});
export type JobLogs = z.infer<typeof JobLogsSchema>;

export const RunnerHeartbeatSchema = z.object({
  v: V,
  leases: z.array(z.object({ jobId: IdSchema, fencingToken: z.number().int().min(0) })).max(1024),
});

/** The runner stops taking work (SIGTERM drain); its running jobs finish or are requeued. */
export const RunnerDrainSchema = z.object({ v: V });

const FencedJobSchema = z.object({ v: V, jobId: IdSchema, fencingToken: z.number().int().min(0) });
const CheckpointFileNameSchema = z
  .string()
  .min(1, "file must not be empty")
  .max(200, "file is longer than 200 characters")
  .regex(/^[A-Za-z0-9._-]+$/, "file may hold letters, digits, '.', '_' and '-' only");
const BytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "data must be binary" });
/** chunks of this size keep every socket.io message far below the server's 16 MiB limit */
export const CHECKPOINT_CHUNK_BYTES = 4 * 1024 * 1024;

/** One chunk of one file of a checkpoint folder (`ckpt-<step>`), fenced by the lease. */
export const CheckpointChunkSchema = FencedJobSchema.extend({
  step: z.number().int().min(0),
  file: CheckpointFileNameSchema,
  index: z.number().int().min(0),
  data: BytesSchema.refine((d) => d.byteLength <= CHECKPOINT_CHUNK_BYTES, `a chunk may hold at most ${CHECKPOINT_CHUNK_BYTES} bytes`),
});
export type CheckpointChunk = z.infer<typeof CheckpointChunkSchema>;
/** All chunks sent: the checkpoint becomes the job's latest (older ones beyond two are dropped). */
export const CheckpointCommitSchema = FencedJobSchema.extend({
  step: z.number().int().min(0),
  files: z
    .array(z.object({ name: CheckpointFileNameSchema, bytes: z.number().int().min(0), chunks: z.number().int().min(0) }))
    .min(1)
    .max(100),
});
export type CheckpointCommit = z.infer<typeof CheckpointCommitSchema>;
export type CheckpointInfo = { step: number; files: { name: string; bytes: number; chunks: number }[] };
/** Asks for the job's newest complete checkpoint (a requeued attempt on a host that lacks it). */
export const CheckpointLatestSchema = FencedJobSchema;
export const CheckpointReadSchema = FencedJobSchema.extend({ step: z.number().int().min(0), file: CheckpointFileNameSchema, index: z.number().int().min(0) });
/**
 * Another job's checkpoint that this job's spec starts from (a distill teacher
 * `{runId, jobId}` or a fine-tune base): fenced by THIS job's lease, and served only when
 * this job's spec references `sourceJobId`, so a runner cannot read arbitrary jobs.
 */
export const SourceCheckpointLatestSchema = FencedJobSchema.extend({ sourceJobId: IdSchema });
export const SourceCheckpointReadSchema = CheckpointReadSchema.extend({ sourceJobId: IdSchema });
/** A resumed attempt drops the run's points after the checkpoint's step, so charts continue from it. */
export const JobRewindSchema = FencedJobSchema.extend({ step: z.number().int().min(0) });
export type JobRewind = z.infer<typeof JobRewindSchema>;

// The event maps, one pair per peer, are in peers.ts.
