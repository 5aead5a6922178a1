import type { Principal } from "../../auth/principal";
import { createIngestSession, type IngestSession, type IngestSource } from "../../services/ingest";

/** writers whose session is kept; past it the oldest are dropped (a session is only a queue and a rank) */
const MAX_SESSIONS = 10_000;

/**
 * HTTP has no connection to hang an ingest session on, so one session per (run, writer)
 * stands in for it: the batches of one writer are applied one after another even when a
 * client pipelines requests, and the rank announced at POST /runs applies to its batches.
 * Its source cannot pause (the body is read already): over budget, a batch is refused with a
 * retryable 503 instead.
 */
export function createHttpSessions() {
  const sessions = new Map<string, IngestSession>();
  const source = (): IngestSource => ({ canPause: false, pause: () => undefined, resume: () => undefined });
  return {
    get(principal: Principal, runId: string, writer: string): IngestSession {
      const k = `${runId}\0${writer}`;
      let s = sessions.get(k);
      if (s) sessions.delete(k);
      else s = createIngestSession(principal, source());
      // the newest credential speaks for the writer (a requeued job attempt has a new token)
      s.principal = principal;
      sessions.set(k, s);
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      return s;
    },
  };
}
export type HttpSessions = ReturnType<typeof createHttpSessions>;
