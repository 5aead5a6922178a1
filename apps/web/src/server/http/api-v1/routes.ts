import type http from "node:http";

import { AppError, PROTOCOL_VERSION } from "@heron/core";
import type { Logger } from "pino";

import { ROUTE_POLICY } from "../../auth/policy";
import type { Principal } from "../../auth/principal";
import type { Services } from "../../services";
import type { AuthLimiter } from "../../services/auth-limiter";
import { sendError, sendJson } from "../json-body";
import { decodeSegment, parseInput } from "../parse-input";
import { authenticateRequest, bearerToken, clientIp } from "../request-auth";
import { toRunLog } from "./batch";
import { readBatchBody, readJson } from "./body";
import { openApiDocument } from "./openapi";
import { ConfigSchema, CreateRunSchema, FinishSchema } from "./schemas";
import { createHttpSessions } from "./sessions";

export type ApiV1Options = { services: Services; limiter: AuthLimiter; log: Logger; publicUrl: () => string };

/** body limits: a run's environment (≤ 2,000 packages) and a batch (≤ 8 MiB of PNG as base64, 50,000 points, log lines) */
export const MAX_RUN_BODY = 4 * 2 ** 20;
export const MAX_BATCH_BODY = 32 * 2 ** 20;
const MAX_SMALL_BODY = 2 ** 20;
/** how long an authorization decision for a writer's batches is reused */
const DECISION_TTL_MS = 10_000;

/**
 * `/api/v1/…`: the ingestion API for clients that are not the socket.io SDK (the Python
 * client, curl). Every route calls the same ingest service as the socket's run:init/run:log,
 * under the same policy rules (ROUTE_POLICY.apiV1*), so sequence numbers, idempotency and
 * authorization are one implementation for both transports.
 */
// Long because it is the route table of /api/v1 (one small case per route) over shared sessions.
export function createApiV1Handler(o: ApiV1Options) {
  const { services, log } = o;
  const sessions = createHttpSessions();

  async function principalOf(req: http.IncomingMessage, res: http.ServerResponse): Promise<Principal | null> {
    // a bearer key only: a session cookie would make these POSTs reachable cross-site (CSRF)
    if (!bearerToken(req.headers.authorization)) {
      sendJson(res, 401, { error: "missing API key: send Authorization: Bearer <key> (a user key hk_… or a job token hj_…)" });
      return null;
    }
    const auth = await authenticateRequest(req.headers, clientIp(req), services, o.limiter);
    if (auth.retryAfterS > 0) {
      sendJson(res, 429, { error: `too many failed authentications; try again in ${auth.retryAfterS} s` }, { "retry-after": String(auth.retryAfterS) });
      return null;
    }
    if (!auth.principal) sendJson(res, 401, { error: "invalid or expired API key" });
    return auth.principal;
  }

  async function createRun(p: Principal, req: http.IncomingMessage) {
    const body = parseInput(CreateRunSchema, await readJson(req, MAX_RUN_BODY), "run");
    await services.access.authorize(p, ROUTE_POLICY.apiV1CreateRun, "POST /api/v1/runs", body);
    const init = { ...body, v: PROTOCOL_VERSION } as const;
    const session = sessions.get(p, "\0init", body.writer);
    const ack = await services.ingest.initRun(session, init);
    // the rank announced here applies to this writer's later batches (their own requests)
    const rank = session.ranks.get(`${ack.runId}\0${body.writer}`);
    if (rank !== undefined) sessions.get(p, ack.runId, body.writer).ranks.set(`${ack.runId}\0${body.writer}`, rank);
    return ack;
  }

  // a decision about (credential, run) is reused briefly, as on a socket: batches are the hot path
  const allowed = new Map<string, number>();
  async function authorizeBatch(p: Principal, runId: string) {
    const who = p.kind === "job" ? `job:${p.jobId}:${p.fencingToken}` : p.kind === "user" ? `user:${p.keyId ?? p.sessionId ?? p.userId ?? p.label}` : "runner";
    const k = `${who}\0${runId}`;
    if ((allowed.get(k) ?? 0) > Date.now()) return;
    await services.access.authorize(p, ROUTE_POLICY.apiV1Batch, "POST /api/v1/runs/{runId}/batches", { runId });
    if (allowed.size > 1000) allowed.clear();
    allowed.set(k, Date.now() + DECISION_TTL_MS);
  }

  async function logBatch(p: Principal, runId: string, req: http.IncomingMessage, res: http.ServerResponse) {
    await authorizeBatch(p, runId);
    const { json, packedData } = await readBatchBody(req, MAX_BATCH_BODY);
    const batch = toRunLog(runId, json, packedData);
    try {
      return await services.ingest.ingestBatch(sessions.get(p, runId, batch.writer), batch);
    } catch (err) {
      // the ingest service's "busy" is a CONFLICT for the socket SDK; over HTTP a client must
      // retry it as it is (a 4xx other than 408/425/429 would make it drop the batch's data)
      if (err instanceof AppError && err.code === "CONFLICT") {
        sendJson(res, 503, { error: err.message }, { "retry-after": "1" });
        return null;
      }
      throw err;
    }
  }

  async function getRun(p: Principal, runId: string) {
    await services.access.authorize(p, ROUTE_POLICY.apiV1GetRun, "GET /api/v1/runs/{runId}", { runId });
    const r = await services.runs.get(runId);
    return {
      id: r.id,
      projectId: r.projectId,
      project: r.project.name,
      name: r.name,
      status: r.status,
      config: r.config,
      summary: r.summary,
      tags: Array.isArray(r.tags) ? r.tags : [],
      group: r.group,
      error: r.error,
      startedAt: r.createdAt.getTime(),
      finishedAt: r.finishedAt?.getTime() ?? null,
      url: `${o.publicUrl()}/runs/${r.id}`,
    };
  }

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    const method = req.method ?? "GET";
    if (path === "/api/v1/openapi.json") {
      if (method !== "GET") return sendJson(res, 405, { error: "use GET" }, { allow: "GET" });
      return sendJson(res, 200, openApiDocument());
    }
    const m = /^\/api\/v1\/runs(?:\/([^/]+)(?:\/(batches|finish|config|heartbeat))?)?$/.exec(path);
    if (!m) return sendJson(res, 404, { error: `no such API route: ${method} ${path}` });
    const runId = m[1] === undefined ? undefined : decodeSegment(m[1], "run id");
    const action = m[2];
    const expected = runId !== undefined && action === undefined ? "GET" : "POST";
    if (method !== expected) return sendJson(res, 405, { error: `use ${expected} for ${path}` }, { allow: expected });
    const p = await principalOf(req, res);
    if (!p) return;
    if (runId === undefined) return sendJson(res, 200, await createRun(p, req));
    switch (action) {
      case undefined:
        return sendJson(res, 200, await getRun(p, runId));
      case "batches": {
        const ack = await logBatch(p, runId, req, res);
        return ack && sendJson(res, 200, ack);
      }
      case "finish": {
        await services.access.authorize(p, ROUTE_POLICY.apiV1Finish, "POST /api/v1/runs/{runId}/finish", { runId });
        const body = parseInput(FinishSchema, await readJson(req, MAX_SMALL_BODY), "finish");
        await services.ingest.finishRun({ ...body, v: PROTOCOL_VERSION, runId });
        return sendJson(res, 200, { ok: true });
      }
      case "config": {
        await services.access.authorize(p, ROUTE_POLICY.apiV1Config, "POST /api/v1/runs/{runId}/config", { runId });
        const body = parseInput(ConfigSchema, await readJson(req, MAX_SMALL_BODY), "config");
        await services.runs.updateConfig(runId, body.config);
        return sendJson(res, 200, { ok: true });
      }
      default: {
        await services.access.authorize(p, ROUTE_POLICY.apiV1Heartbeat, "POST /api/v1/runs/{runId}/heartbeat", { runId });
        await services.ingest.heartbeat(runId);
        return sendJson(res, 200, { ok: true });
      }
    }
  }

  /** handles any URL under /api/v1/; every failure becomes a JSON {error} answer */
  return async function handleApiV1(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = (req.url ?? "/").split("?")[0]!;
    try {
      await dispatch(req, res, path);
    } catch (err) {
      if (!(err instanceof AppError)) log.error({ err, path: path.slice(0, 200) }, "API v1 request failed");
      // an unread body must not be parsed as the next request on this connection
      if (!req.complete) res.setHeader("connection", "close");
      sendError(res, err);
    }
  };
}
