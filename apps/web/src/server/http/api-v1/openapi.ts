import type { z } from "zod";
import { createDocument } from "zod-openapi";

import { PACKED_BATCH_TYPE } from "./body";
import {
  BatchResponseSchema,
  BatchSchema,
  ConfigSchema,
  CreateRunResponseSchema,
  CreateRunSchema,
  ErrorSchema,
  FinishSchema,
  OkSchema,
  RunIdParamSchema,
  RunSchema,
} from "./schemas";

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });
const errors = {
  "400": { description: "invalid request (message says which field)", ...json(ErrorSchema) },
  "401": { description: "missing or invalid API key", ...json(ErrorSchema) },
  "403": { description: "the key may not do this", ...json(ErrorSchema) },
  "404": { description: "no such run", ...json(ErrorSchema) },
  "413": { description: "body too large", ...json(ErrorSchema) },
  "429": { description: "too many failed authentications (Retry-After)", ...json(ErrorSchema) },
};
const runParam = { path: RunIdParamSchema };

let cached: object | null = null;

/** The OpenAPI 3.1 document of /api/v1, generated from the same zod schemas that validate requests. */
export function openApiDocument(): object {
  cached ??= createDocument({
    openapi: "3.1.0",
    info: {
      title: "Heron ingestion API",
      version: "1",
      description:
        "Create or resume runs and log sequenced batches (points, texts, images, logs, config, summary, environment, end) exactly once. See docs/http-api.md.",
    },
    servers: [{ url: "/api/v1" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "a user API key (hk_…) or a job token (hj_…)" } } },
    security: [{ bearer: [] }],
    paths: {
      "/runs": {
        post: {
          summary: "Create or resume a run",
          description: "Idempotent with a client-chosen id and resume: allow. lastSeq is per (run, writer): send lastSeq + 1 next.",
          requestBody: json(CreateRunSchema),
          responses: {
            "200": { description: "the run", ...json(CreateRunResponseSchema) },
            ...errors,
            "409": { description: "run exists and resume is never", ...json(ErrorSchema) },
          },
        },
      },
      "/runs/{runId}": {
        get: { summary: "Run metadata and status", requestParams: runParam, responses: { "200": { description: "the run", ...json(RunSchema) }, ...errors } },
      },
      "/runs/{runId}/batches": {
        post: {
          summary: "Log one sequenced batch",
          description:
            "seq == acked + 1 is stored and acked; seq <= acked is acknowledged without storing it again; a batch after a gap is not acked until the gap is filled (resend from ackSeq + 1). " +
            `The binary form (${PACKED_BATCH_TYPE}): a 4-byte little-endian header length, the JSON header (this schema with packed.keys and no packed.data), then the packed columns.`,
          requestParams: runParam,
          requestBody: {
            content: {
              "application/json": { schema: BatchSchema },
              [PACKED_BATCH_TYPE]: { schema: { type: "string", format: "binary" } },
            },
          },
          responses: {
            "200": { description: "acknowledged", ...json(BatchResponseSchema) },
            ...errors,
            "503": { description: "server busy writing other batches: retry after Retry-After", ...json(ErrorSchema) },
          },
        },
      },
      "/runs/{runId}/finish": {
        post: {
          summary: "End a run",
          requestParams: runParam,
          requestBody: json(FinishSchema),
          responses: { "200": { description: "ended", ...json(OkSchema) }, ...errors },
        },
      },
      "/runs/{runId}/config": {
        post: {
          summary: "Merge into a run's config (unsequenced; batches carry config too)",
          requestParams: runParam,
          requestBody: json(ConfigSchema),
          responses: { "200": { description: "merged", ...json(OkSchema) }, ...errors },
        },
      },
      "/runs/{runId}/heartbeat": {
        post: {
          summary: "Keep a quiet run from turning stale",
          requestParams: runParam,
          responses: { "200": { description: "ok", ...json(OkSchema) }, ...errors },
        },
      },
    },
  });
  return cached;
}
