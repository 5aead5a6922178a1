import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

import { ArtifactVersionInfoSchema, type BlobUploadState, BlobUploadStateSchema, DigestSchema } from "@heron/core";
import { z } from "zod";

import type { ArtifactCommit } from "./types";

/** An answer of the server other than 2xx: `status` tells a refusal (4xx) from a passing failure. */
export class ArtifactHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ArtifactHttpError";
  }
}

/** worth retrying: the network, a 5xx, a timeout, a busy server, or a resume at the wrong offset */
export const isTransient = (err: unknown) =>
  !(err instanceof ArtifactHttpError) || err.status >= 500 || err.status === 408 || err.status === 409 || err.status === 429;

export type Progress = (sentBytes: number) => void;
export type ArtifactClientOptions = { host: string; apiKey?: string; retries?: number; retryDelayMs?: number };

const CommitAnswerSchema = ArtifactVersionInfoSchema.extend({ created: z.boolean() });
const ListAnswerSchema = z.array(
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    description: z.string().nullable(),
    versions: z.number(),
    latest: z.object({ id: z.string(), version: z.number(), bytes: z.number(), createdAt: z.string() }).nullable(),
    aliases: z.record(z.string(), z.string()),
    updatedAt: z.string(),
  }),
);
export type ArtifactListEntry = z.infer<typeof ListAnswerSchema>[number];

/** A JSON answer validated by `schema`, or the ArtifactHttpError it stands for. */
function answer<S extends z.ZodType>(schema: S, method: string, path: string, status: number, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (status < 200 || status >= 300) {
    const msg = (json as { error?: unknown } | null)?.error;
    throw new ArtifactHttpError(status, `${method} ${path.split("?")[0]}: ${status} ${typeof msg === "string" ? msg : text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ArtifactHttpError(502, `${method} ${path.split("?")[0]}: the server's answer has an unexpected shape`);
  return parsed.data;
}

/** Counts the bytes that pass, for progress bars. */
async function* counted(source: AsyncIterable<Uint8Array>, start: number, onProgress?: Progress): AsyncIterable<Uint8Array> {
  let sent = start;
  for await (const chunk of source) {
    sent += chunk.byteLength;
    onProgress?.(sent);
    yield chunk;
  }
}

/**
 * PUT of a stream with node:http, whose socket writes wait for the network (backpressure).
 * Not fetch: undici kept every piece of a streamed request body referenced until the request
 * ended — a 200 MB upload held 200 MB — with Readable.toWeb and a pull-based stream alike.
 */
function putStream(url: string, headers: Record<string, string>, source: AsyncIterable<Uint8Array>): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: "PUT", headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    // the server may answer (a refusal) before the body is sent: the answer wins over the broken pipe
    pipeline(Readable.from(source), req).catch((err: unknown) => {
      if (!req.writableFinished) req.destroy(err as Error);
    });
  });
}

/**
 * The SDK's and the CLI's side of `/api/artifacts` (see the server's http/artifacts.ts).
 * Every answer is validated before use: the network is not trusted.
 */
// Long because it is one small method per route, sharing the request helper and retry loop.
export function createArtifactClient(o: ArtifactClientOptions) {
  const host = o.host.replace(/\/+$/, "");
  const retries = o.retries ?? 8;
  const retryDelayMs = o.retryDelayMs ?? 250;
  const auth: Record<string, string> = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};

  async function call<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<z.output<S>> {
    const res = await fetch(host + path, {
      method,
      ...init,
      headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) },
      body: body !== undefined ? JSON.stringify(body) : init.body,
    });
    return answer(schema, method, path, res.status, await res.text());
  }

  async function withRetries<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!isTransient(err) || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5_000, retryDelayMs * 2 ** attempt)));
        void what;
      }
    }
  }

  const q = (params: Record<string, string | undefined>) =>
    "?" + new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();

  return {
    host,
    /**
     * Uploads one local file as a blob unless the server has it: starts (or finds) an upload,
     * streams the file from the offset the server holds, and after a broken connection asks
     * for the offset again and continues. Returns where it started (> 0: resumed) and what it sent.
     */
    async uploadBlob(project: string, file: string, blob: { digest: string; bytes: number }, onProgress?: Progress) {
      const start = () => call(BlobUploadStateSchema, "POST", "/api/artifacts/uploads", { projectId: project, ...blob });
      let state: BlobUploadState = await withRetries("start", start);
      const resumedFrom = state.complete ? null : state.offset;
      let sent = 0;
      await withRetries("upload", async (attempt) => {
        if (attempt > 0 && !state.complete) {
          // where the server got to (another server process may have taken the upload)
          state = state.uploadId
            ? await call(BlobUploadStateSchema, "GET", `/api/artifacts/uploads/${state.uploadId}`).catch(async (err: unknown) => {
                if (err instanceof ArtifactHttpError && err.status === 404) return start();
                throw err;
              })
            : await start();
        }
        while (!state.complete) {
          const from = state.offset;
          const res = await putStream(
            `${host}/api/artifacts/uploads/${state.uploadId}`,
            { ...auth, "upload-offset": String(from), "content-type": "application/octet-stream", "content-length": String(blob.bytes - from) },
            counted(fs.createReadStream(file, { start: from, highWaterMark: 1024 * 1024 }), from, onProgress),
          );
          state = answer(BlobUploadStateSchema, "PUT", "/api/artifacts/uploads", res.status, res.text);
          sent += state.offset - from;
        }
      });
      onProgress?.(blob.bytes);
      return { resumedFrom, sent };
    },

    commit(input: ArtifactCommit) {
      return withRetries("commit", () => call(CommitAnswerSchema, "POST", "/api/artifacts/versions", input));
    },
    resolve(project: string, ref: string) {
      return withRetries("resolve", () => call(ArtifactVersionInfoSchema, "GET", `/api/artifacts/resolve${q({ projectId: project, ref })}`));
    },
    version(versionId: string) {
      return withRetries("version", () => call(ArtifactVersionInfoSchema, "GET", `/api/artifacts/${encodeURIComponent(versionId)}`));
    },
    list(project: string, type?: string) {
      return withRetries("list", () => call(ListAnswerSchema, "GET", `/api/artifacts${q({ projectId: project, type })}`));
    },
    recordUse(artifactVersionId: string, runId?: string) {
      return withRetries("use", () => call(z.object({ ok: z.literal(true) }), "POST", "/api/artifacts/uses", { artifactVersionId, runId }));
    },
    /** A file's bytes as a stream (the caller verifies the digest while writing them). */
    async openFile(versionId: string, filePath: string): Promise<{ body: AsyncIterable<Uint8Array>; digest: string | null }> {
      const url = `${host}/api/artifacts/${encodeURIComponent(versionId)}/files/${filePath.split("/").map(encodeURIComponent).join("/")}`;
      const res = await fetch(url, { headers: auth });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => "");
        throw new ArtifactHttpError(res.status, `GET ${filePath}: ${res.status} ${text.slice(0, 200)}`);
      }
      const header = /^sha256=(.+)$/.exec(res.headers.get("x-heron-digest") ?? "")?.[1] ?? null;
      return {
        body: Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>),
        digest: header && DigestSchema.safeParse(header).success ? header : null,
      };
    },
  };
}
export type ArtifactClient = ReturnType<typeof createArtifactClient>;
