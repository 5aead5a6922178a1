import type http from "node:http";
import { pipeline } from "node:stream/promises";

import {
  AppError,
  ArtifactCommitSchema,
  ArtifactPathSchema,
  ArtifactRefStringSchema,
  ArtifactTypeSchema,
  ArtifactUseSchema,
  BlobUploadStartSchema,
  IdSchema,
} from "@heron/core";
import type { Logger } from "pino";
import { z } from "zod";

import { ROUTE_POLICY } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { Services } from "../services";
import type { AuthLimiter } from "../services/auth-limiter";
import { readJson } from "./api-v1/body";
import { sendError, sendJson } from "./json-body";
import { decodeSegment, parseInput } from "./parse-input";
import { authenticateRequest, bearerToken, clientIp } from "./request-auth";

export type ArtifactRoutesOptions = { services: Services; limiter: AuthLimiter; log: Logger };

const MAX_JSON_BODY = 8 * 2 ** 20;
const UploadIdSchema = z.string().regex(/^up_[0-9a-f]{32}$/, "not an upload id");
const ListQuerySchema = z.object({ projectId: z.string().min(1).max(200), type: ArtifactTypeSchema.optional() });
const ResolveQuerySchema = z.object({ projectId: z.string().min(1).max(200), ref: ArtifactRefStringSchema });

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `size` bytes; null when absent or unsatisfiable (the whole file is sent then) */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "") || size === 0) return null;
  const start = m[1] === "" ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === "" || m[2] === "" ? size - 1 : Math.min(size - 1, Number(m[2]));
  return start <= end && start < size ? { start, end } : null;
}

/**
 * `/api/artifacts…`: file downloads (GET, also for browsers with their session cookie) and,
 * for the SDK and the CLI with a bearer key, resumable uploads, version commits, lookups and
 * uses. Every route is in ROUTE_POLICY; a job's token reaches its own project only.
 *
 *   GET    /api/artifacts?projectId=P[&type=T]          list
 *   GET    /api/artifacts/resolve?projectId=P&ref=R      a version with its files (R: name[:alias|:vN])
 *   GET    /api/artifacts/<versionId>                    the same, by id
 *   GET    /api/artifacts/<versionId>/files/<path>       the file, streamed (Range supported)
 *   POST   /api/artifacts/uploads {projectId,digest,bytes}  start or resume: {uploadId, offset, complete}
 *   GET    /api/artifacts/uploads/<id>                   where to resume
 *   PUT    /api/artifacts/uploads/<id>  Upload-Offset: N  the bytes from N (the last verifies the digest)
 *   DELETE /api/artifacts/uploads/<id>                   abort
 *   POST   /api/artifacts/versions {ArtifactCommit}      commit a version of stored files
 *   POST   /api/artifacts/uses {artifactVersionId, runId?}  record a use (lineage)
 */
// Long because it is the route table of /api/artifacts (one small case per route).
export function createArtifactRoutes(o: ArtifactRoutesOptions) {
  const { services, log } = o;
  const artifacts = services.artifacts;

  async function principalOf(req: http.IncomingMessage, res: http.ServerResponse, write: boolean): Promise<Principal | null> {
    // writes take a bearer key only: a session cookie would make them reachable cross-site (CSRF)
    if (write && !bearerToken(req.headers.authorization)) {
      sendJson(res, 401, { error: "missing API key: send Authorization: Bearer <key> (a user key hk_… or a job token hj_…)" });
      return null;
    }
    const auth = await authenticateRequest(req.headers, clientIp(req), services, o.limiter);
    if (auth.retryAfterS > 0) {
      sendJson(res, 429, { error: `too many failed authentications; try again in ${auth.retryAfterS} s` }, { "retry-after": String(auth.retryAfterS) });
      return null;
    }
    if (!auth.principal) sendJson(res, 401, { error: "missing or invalid API key (send Authorization: Bearer <key>, or sign in)" });
    return auth.principal;
  }

  /** authorises `rule` on a project given by id or name; returns its id */
  async function projectFor(p: Principal, rule: keyof typeof ROUTE_POLICY, what: string, projectRef: string): Promise<string> {
    await services.access.authorize(p, ROUTE_POLICY[rule], what, { projectId: projectRef });
    const id = (await services.projects.get(projectRef)).id;
    artifacts.checkReach(p, id);
    return id;
  }

  async function versionFor(p: Principal, rule: "artifactDownload" | "artifactUse", what: string, versionId: string) {
    await services.access.authorize(p, ROUTE_POLICY[rule], what, { artifactVersionId: versionId });
    const v = await artifacts.version(versionId);
    artifacts.checkReach(p, v.projectId);
    return v;
  }

  async function download(p: Principal, req: http.IncomingMessage, res: http.ServerResponse, versionId: string, rawPath: string) {
    const filePath = parseInput(
      ArtifactPathSchema,
      rawPath
        .split("/")
        .map((p) => decodeSegment(p, "file path"))
        .join("/"),
      "file path",
    );
    await versionFor(p, "artifactDownload", "GET /api/artifacts/{versionId}/files/{path}", versionId);
    const meta = await artifacts.file(versionId, filePath);
    const range = rangeOf(req.headers.range, meta.bytes);
    const f = await artifacts.openFile(versionId, filePath, range);
    const name = filePath
      .split("/")
      .at(-1)!
      .replace(/[^A-Za-z0-9._-]/g, "_");
    res.writeHead(range ? 206 : 200, {
      "content-type": f.contentType,
      "content-length": String(range ? range.end - range.start + 1 : f.bytes),
      "content-disposition": `attachment; filename="${name}"`,
      "accept-ranges": "bytes",
      etag: `"${f.digest}"`,
      "x-heron-digest": `sha256=${f.digest}`,
      "cache-control": "private, max-age=31536000, immutable",
      ...(range ? { "content-range": `bytes ${range.start}-${range.end}/${f.bytes}` } : {}),
    });
    if (req.method === "HEAD") return void (f.stream.destroy(), res.end());
    // a client that goes away mid-file ends the pipeline; nothing to answer then
    await pipeline(f.stream, res).catch(() => undefined);
  }

  // Long because it is the dispatch over every route above, each a few lines.
  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const method = req.method ?? "GET";
    const parts = url.pathname.split("/").slice(3); // "", "api", "artifacts", …
    const write = method !== "GET" && method !== "HEAD";
    const route = parts[0] ?? "";
    const expect = (m: string) => {
      if (method === m || (m === "GET" && method === "HEAD")) return true;
      sendJson(res, 405, { error: `use ${m} for ${url.pathname.slice(0, 200)}` }, { allow: m });
      return false;
    };
    const known =
      (route === "" && parts.length <= 1) ||
      (route === "resolve" && parts.length === 1) ||
      (route === "uploads" && parts.length <= 2) ||
      ((route === "versions" || route === "uses") && parts.length === 1) ||
      parts.length === 1 ||
      (parts.length >= 3 && parts[1] === "files");
    if (!known) return sendJson(res, 404, { error: `no such artifacts route: ${method} ${url.pathname.slice(0, 200)}` });
    const p = await principalOf(req, res, write);
    if (!p) return;
    const q = Object.fromEntries(url.searchParams);
    if (route === "") {
      if (!expect("GET")) return;
      const input = parseInput(ListQuerySchema, q, "query");
      const projectId = await projectFor(p, "artifactResolve", "GET /api/artifacts", input.projectId);
      return sendJson(res, 200, await artifacts.list(projectId, input.type));
    }
    if (route === "resolve") {
      if (!expect("GET")) return;
      const input = parseInput(ResolveQuerySchema, q, "query");
      const projectId = await projectFor(p, "artifactResolve", "GET /api/artifacts/resolve", input.projectId);
      return sendJson(res, 200, await artifacts.resolve(projectId, input.ref));
    }
    if (route === "uploads" && parts.length === 1) {
      if (!expect("POST")) return;
      const body = parseInput(BlobUploadStartSchema, await readJson(req, MAX_JSON_BODY), "upload");
      const projectId = await projectFor(p, "artifactUpload", "POST /api/artifacts/uploads", body.projectId);
      return sendJson(res, 200, await artifacts.uploads.start(artifacts.actor(p), projectId, body));
    }
    if (route === "uploads") {
      const uploadId = parseInput(UploadIdSchema, decodeSegment(parts[1]!, "upload id"), "upload id");
      const projectId = await artifacts.uploads.projectOf(uploadId);
      await projectFor(p, "artifactUpload", `${method} /api/artifacts/uploads/{id}`, projectId);
      if (method === "GET" || method === "HEAD") return sendJson(res, 200, await artifacts.uploads.state(uploadId));
      if (method === "DELETE") return sendJson(res, 200, (await artifacts.uploads.abort(uploadId), { ok: true }));
      if (!expect("PUT")) return;
      const offset = parseInput(z.coerce.number().int().min(0), req.headers["upload-offset"] ?? "", "Upload-Offset header");
      return sendJson(res, 200, await artifacts.uploads.append(uploadId, offset, req));
    }
    if (route === "versions") {
      if (!expect("POST")) return;
      const body = parseInput(ArtifactCommitSchema, await readJson(req, MAX_JSON_BODY), "artifact version");
      const projectId = await projectFor(p, "artifactCommit", "POST /api/artifacts/versions", body.projectId);
      return sendJson(res, 200, await artifacts.commit(p, projectId, body));
    }
    if (route === "uses") {
      if (!expect("POST")) return;
      const body = parseInput(ArtifactUseSchema, await readJson(req, MAX_JSON_BODY), "artifact use");
      await versionFor(p, "artifactUse", "POST /api/artifacts/uses", body.artifactVersionId);
      await artifacts.recordUse(p, body.artifactVersionId, body);
      return sendJson(res, 200, { ok: true });
    }
    const versionId = parseInput(IdSchema, decodeSegment(route, "artifact version id"), "artifact version id");
    if (!expect("GET")) return;
    if (parts.length === 1) return sendJson(res, 200, await versionFor(p, "artifactDownload", "GET /api/artifacts/{versionId}", versionId));
    return download(p, req, res, versionId, parts.slice(2).join("/"));
  }

  /** handles any URL under /api/artifacts; every failure becomes a JSON {error} answer */
  return async function handleArtifacts(req: http.IncomingMessage, res: http.ServerResponse) {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://x");
    } catch {
      return sendJson(res, 400, { error: "malformed URL" });
    }
    try {
      await dispatch(req, res, url);
    } catch (err) {
      // a client that went away mid-upload is expected (it resumes); anything else unexpected is logged
      if (!(err instanceof AppError) && !req.destroyed) log.error({ err, path: url.pathname.slice(0, 200) }, "artifacts request failed");
      else if (!(err instanceof AppError)) log.debug({ path: url.pathname.slice(0, 200) }, "artifacts request ended by the client");
      // an unread body must not be parsed as the next request on this connection
      if (!req.complete) res.setHeader("connection", "close");
      sendError(res, err);
    }
  };
}
