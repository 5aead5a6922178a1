import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { createClient } from "redis";

export type AuthLimiterOptions = { failuresPerWindow: number; windowS: number; blockS: number; redisUrl?: string };
export const DEFAULT_AUTH_LIMITS: AuthLimiterOptions = { failuresPerWindow: 30, windowS: 60, blockS: 60 };

/**
 * Failed authentications per client address (wrong key, wrong password, bad session): past
 * the limit the address gets 429 for `blockS`, whatever it sends. Memory by default; with
 * Redis every server process counts together.
 */
export async function createAuthLimiter(opts: AuthLimiterOptions) {
  let close = async () => undefined as void;
  let limiter: RateLimiterAbstract;
  const base = { keyPrefix: "heron-auth-fail", points: opts.failuresPerWindow, duration: opts.windowS, blockDuration: opts.blockS };
  if (opts.redisUrl) {
    const client = createClient({ url: opts.redisUrl });
    await client.connect();
    limiter = new RateLimiterRedis({ ...base, storeClient: client, useRedisPackage: true, insuranceLimiter: new RateLimiterMemory(base) });
    close = async () => {
      await Promise.race([client.close().catch(() => undefined), new Promise((r) => setTimeout(r, 300).unref())]);
      if (client.isOpen) await client.disconnect().catch(() => undefined);
    };
  } else {
    limiter = new RateLimiterMemory(base);
  }
  return {
    /** seconds until the address may try again, or 0 */
    async retryAfterS(ip: string): Promise<number> {
      const res = await limiter.get(ip).catch(() => null);
      return res && res.consumedPoints > opts.failuresPerWindow ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
    },
    async fail(ip: string): Promise<void> {
      await limiter.consume(ip).catch(() => undefined);
    },
    close,
  };
}
export type AuthLimiter = Awaited<ReturnType<typeof createAuthLimiter>>;
