import { z } from "zod";

import { CHECKPOINT_CHUNK_BYTES } from "./events";

/**
 * What a runner daemon accepts from the server: every ack it awaits and every event the
 * server pushes. A runner executes work on a GPU host and turns some of these fields into
 * local paths, so a spoofed or compromised server must not get past this layer with a
 * field of the wrong shape. Ids that name folders are single safe path segments.
 */

/** a server id the runner uses as a folder name: one segment, no dots, no separators */
export const PathSafeIdSchema = z
  .string()
  .min(1, "id must not be empty")
  .max(64, "id is longer than 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "id may hold letters, digits, '_' and '-' only");

const Int = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** an ack's body when `ok` is true; `{ok: false, error}` is read by parseAck */
function ackOf<T extends z.ZodRawShape>(body: T) {
  return z.object({ ok: z.literal(true), ...body });
}

/** `leaseTtlMs`/`heartbeatMs`: the server's lease settings, so daemons heartbeat often enough */
export const RunnerHelloAckSchema = ackOf({
  runnerId: z.string().max(200),
  leaseTtlMs: Int.optional(),
  heartbeatMs: z.number().int().min(10).max(600_000).optional(),
});

/** the lease envelope; its spec is checked by the job against JobSpecSchema when it starts */
export const LeaseMessageSchema = z.object({
  jobId: PathSafeIdSchema,
  runId: z.string().min(1).max(64),
  projectName: z.string().min(1).max(100),
  attempt: z.number().int().min(1),
  fencingToken: Int,
  expiresAt: z.number(),
  jobToken: z.string().min(1).max(1000),
  spec: z.unknown(),
});
export const ClaimAckSchema = ackOf({ lease: LeaseMessageSchema.nullable() });

/** `stale`: leases this runner no longer holds (stop those attempts); `cancel`: jobs to cancel (a missed job:cancel push) */
export const RunnerHeartbeatAckSchema = ackOf({ stale: z.array(z.string().max(64)).max(10_000), cancel: z.array(z.string().max(64)).max(10_000).optional() });

/** checkpoint files are single path segments (the server refuses other names at upload) */
export const CheckpointFileNameMessageSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, "checkpoint file names hold letters, digits, '.', '_' and '-' and do not start with '.'");

/** most bytes one checkpoint file may have: a runner never allocates for more */
export const MAX_CHECKPOINT_FILE_BYTES = 64 * 1024 ** 3;
export const CheckpointInfoMessageSchema = z.object({
  step: Int,
  files: z
    .array(
      z
        .object({ name: CheckpointFileNameMessageSchema, bytes: Int.max(MAX_CHECKPOINT_FILE_BYTES), chunks: Int })
        .refine((f) => f.chunks === Math.max(1, Math.ceil(f.bytes / CHECKPOINT_CHUNK_BYTES)), "chunks must match bytes"),
    )
    .min(1)
    .max(100),
});
export const CheckpointLatestAckSchema = ackOf({ checkpoint: CheckpointInfoMessageSchema.nullable() });
export const CheckpointReadAckSchema = ackOf({
  data: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength <= CHECKPOINT_CHUNK_BYTES, "data must be at most one chunk of bytes"),
});
export const RewindAckSchema = ackOf({ deleted: z.number().int().min(0) });
export const EmptyAckSchema = ackOf({});

/** server → runner pushes */
export const JobCancelPushSchema = z.object({ jobId: z.string().min(1).max(64) });

/** a schema for an ack's `ok: true` form */
export type AckSchema<T extends { ok: true }> = z.ZodType<T>;
export type Refusal = { ok: false; error: string };

const RefusalSchema = z.object({ ok: z.literal(false), error: z.string().max(100_000) });

/**
 * Checks an ack against its schema. A malformed one becomes `{ok: false}` with the reason,
 * so callers handle it like any refusal and never act on it.
 */
export function parseAck<T extends { ok: true }>(schema: AckSchema<T>, raw: unknown): T | Refusal {
  const refused = RefusalSchema.safeParse(raw);
  if (refused.success) return refused.data;
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  return { ok: false, error: `malformed answer from the server${i?.path.length ? ` at ${i.path.join(".")}` : ""}: ${i?.message ?? "invalid"}` };
}
