import type { IngestSource } from "../services/ingest/batch-writer";

/** A socket.io connection as an IngestSource: pausing stops reading its TCP socket (websocket transport). */
export function socketSource(conn: { transport?: { name?: string; socket?: { pause?: () => void; resume?: () => void } } }): IngestSource {
  const ws = () => (conn.transport?.name === "websocket" ? conn.transport.socket : undefined);
  return {
    get canPause() {
      return typeof ws()?.pause === "function";
    },
    pause: () => ws()?.pause?.(),
    resume: () => ws()?.resume?.(),
  };
}
