import { AppError, formatIssues, PROTOCOL_VERSION, type RunLog, RunLogSchema } from "@heron/core";

import { decodeBase64 } from "./body";
import { BatchSchema } from "./schemas";

/**
 * An HTTP batch (JSON with base64 binaries, or the binary packed form) → the socket
 * protocol's RunLog, validated by RunLogSchema itself: both transports share one set of
 * limits and hand the ingest service the same value.
 */
export function toRunLog(runId: string, json: unknown, packedData?: Uint8Array): RunLog {
  const parsed = BatchSchema.safeParse(json);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid batch: ${formatIssues(parsed.error.issues)}`);
  const { points, packed, images, ...rest } = parsed.data;
  let packedBytes: Uint8Array | undefined;
  if (packed) {
    if (packedData && packed.data !== undefined) throw new AppError("BAD_REQUEST", "binary batch: packed.data belongs after the header, not in it");
    if (!packedData && packed.data === undefined) throw new AppError("BAD_REQUEST", "packed.data (base64) is required in a JSON batch");
    packedBytes = packedData ?? decodeBase64(packed.data!, "packed.data");
  } else if (packedData && packedData.byteLength > 0) {
    throw new AppError("BAD_REQUEST", "binary batch: bytes after the header but no packed.keys in it");
  }
  const input = {
    ...rest,
    v: PROTOCOL_VERSION,
    runId,
    // JSON has no NaN: a null value is read as one (the protocol's strings are kept as they are)
    ...(points ? { points: points.map((p) => (p.value === null ? { ...p, value: "NaN" as const } : p)) } : {}),
    ...(packedBytes ? { packed: { keys: packed!.keys, data: packedBytes } } : {}),
    ...(images ? { images: images.map((m, i) => ({ ...m, png: decodeBase64(m.png, `images.${i}.png`) })) } : {}),
  };
  const log = RunLogSchema.safeParse(input);
  if (!log.success) throw new AppError("BAD_REQUEST", `invalid batch: ${formatIssues(log.error.issues)}`);
  return log.data;
}
