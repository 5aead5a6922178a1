import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

import type { HeronIo } from ".";

/** With REDIS_URL, several server processes share rooms: a point ingested on one reaches dashboards on all. */
export async function attachRedisAdapter(io: HeronIo, url: string): Promise<() => Promise<void>> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  return async () => {
    // io.close() left the adapter's UNSUBSCRIBEs in flight, and an immediate disconnect rejects
    // them unhandled: close() gracefully (it waits for pending replies), bounded, then disconnect
    // whatever is still open (a graceful close can linger on timers; we're shutting down anyway)
    const bounded = new Promise((r) => setTimeout(r, 500).unref());
    await Promise.race([Promise.allSettled([pub.close(), sub.close()]), bounded]);
    await Promise.allSettled([pub.isOpen && pub.disconnect(), sub.isOpen && sub.disconnect()]);
  };
}
