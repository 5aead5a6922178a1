import { AppError } from "@heron/core";
import type { Logger } from "pino";

import { EVENT_POLICY } from "../auth/policy";
import { inputProblem } from "../input-shape";
import type { Services } from "../services";
import type { HeronSocket } from "./types";

/** a decision about (event scope, run) is reused this long on one connection: run:log is the hot path */
const DECISION_TTL_MS = 10_000;

/**
 * The socket.io side of the policy table: every incoming event is checked before its handler
 * runs. Checks may read the database, so they run one after another per connection and
 * release packets in arrival order (handlers rely on a socket's batches staying in order).
 */
export function authorizeEvents(socket: HeronSocket, services: Services, log: Logger) {
  const p = socket.data.principal;
  const allowed = new Map<string, number>();
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;

  socket.use((packet, next) => {
    const [event, payload] = packet as [string, unknown];
    const ack: unknown = packet.at(-1);
    const problem = inputProblem(payload);
    if (problem) {
      if (typeof ack === "function") (ack as (a: { ok: false; error: string }) => void)({ ok: false, error: `invalid ${event} payload: ${problem}` });
      return;
    }
    const rule = EVENT_POLICY[event];
    const runId = payload && typeof payload === "object" ? (payload as { runId?: unknown }).runId : undefined;
    const cacheKey = rule?.target === "run" && typeof runId === "string" ? `${rule.scope ?? ""}\0${runId}` : null;
    const cached = cacheKey !== null && (allowed.get(cacheKey) ?? 0) > Date.now();
    if (pending === 0) {
      if (cached) return next();
      // runner and job tokens, unknown events: settled without the database, so no promise hop
      const decided = services.access.decideWithoutLookup(p, rule, event, payload);
      if (decided === "allow") return next();
      if (decided) {
        if (typeof ack === "function") (ack as (a: { ok: false; error: string }) => void)({ ok: false, error: decided.message });
        return;
      }
    }
    pending++;
    queue = queue.then(async () => {
      try {
        if (!cached) await services.access.authorize(p, rule, event, payload);
        if (cacheKey && !cached) {
          if (allowed.size > 1000) allowed.clear();
          allowed.set(cacheKey, Date.now() + DECISION_TTL_MS);
        }
        next();
      } catch (err) {
        if (!(err instanceof AppError)) log.error({ err, event }, "socket authorization failed");
        const error = err instanceof AppError ? err.message : "internal server error";
        if (typeof ack === "function") (ack as (a: { ok: false; error: string }) => void)({ ok: false, error });
      } finally {
        pending--;
      }
    });
  });
}
