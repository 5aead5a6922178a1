import type http from "node:http";

import { AppError } from "@heron/core";

/** Reads the whole body, refusing past `maxBytes` without buffering the rest (413). */
export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON body up to `maxBytes` (refused beyond, without buffering the rest). */
export async function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const body = await readBody(req, maxBytes);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new AppError("BAD_REQUEST", "body is not valid JSON");
  }
}

const STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
} as const;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** An AppError becomes its 4xx; anything else a bare 500 (internals stay in the log). */
export function sendError(res: http.ServerResponse, err: unknown) {
  if (err instanceof AppError) return sendJson(res, STATUS[err.code], { error: err.message });
  sendJson(res, 500, { error: "internal server error" });
}
