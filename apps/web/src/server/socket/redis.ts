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
    // quit() can linger on timers; disconnect is immediate and we're shutting down anyway
    await Promise.allSettled([pub.disconnect(), sub.disconnect()]);
  };
}
