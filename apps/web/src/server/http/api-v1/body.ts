import type http from "node:http";

import { AppError } from "@heron/core";

import { inputProblem } from "../../input-shape";
import { readBody } from "../json-body";

/** the binary batch: u32 LE header length, the JSON header (a batch without points), then the packed columns */
export const PACKED_BATCH_TYPE = "application/vnd.heron.batch";

function parseJson(bytes: Buffer | string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === "string" ? bytes : bytes.toString("utf8"));
  } catch {
    throw new AppError("BAD_REQUEST", "body is not valid JSON");
  }
  // the same shape rules as every other entry point (lone surrogates, nesting) before anything reads it
  const problem = inputProblem(value);
  if (problem) throw new AppError("BAD_REQUEST", problem);
  return value;
}

function mediaType(req: http.IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/** A JSON body (application/json, or no type from a bare client). */
export async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = mediaType(req);
  if (type && type !== "application/json") throw new AppError("BAD_REQUEST", `expected Content-Type application/json, got ${type}`);
  return parseJson(await readBody(req, maxBytes));
}

/**
 * A batch body: JSON, or the binary form — a JSON header whose `packed` holds only `keys`,
 * followed by the packed columns as raw bytes (no base64: the TS SDK's hot path).
 * Returns the header as parsed JSON and, for the binary form, the column bytes.
 */
export async function readBatchBody(req: http.IncomingMessage, maxBytes: number): Promise<{ json: unknown; packedData?: Uint8Array }> {
  const type = mediaType(req);
  if (type !== PACKED_BATCH_TYPE) return { json: await readJson(req, maxBytes) };
  const body = await readBody(req, maxBytes);
  if (body.length < 4) throw new AppError("BAD_REQUEST", "binary batch: missing the 4-byte header length");
  const headerLength = body.readUInt32LE(0);
  if (4 + headerLength > body.length)
    throw new AppError("BAD_REQUEST", `binary batch: header length ${headerLength} runs past the body (${body.length} bytes)`);
  const json = parseJson(body.subarray(4, 4 + headerLength));
  return { json, packedData: body.subarray(4 + headerLength) };
}

/** base64 → bytes, refusing what is not base64 (Buffer.from would silently skip bad characters) */
export function decodeBase64(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw new AppError("BAD_REQUEST", `${what} must be base64`);
  return Buffer.from(s, "base64");
}
