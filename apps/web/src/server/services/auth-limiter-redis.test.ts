// With REDIS_URL every server process counts failed authentications together: an address
// blocked on one process is blocked on all.
import crypto from "node:crypto";

import { expect, it } from "vitest";

import { redisAvailable, TEST_REDIS_URL } from "../../testing/harness";
import { createAuthLimiter } from "./auth-limiter";

it.skipIf(!(await redisAvailable()))("shares failed-authentication counts between processes through Redis", async () => {
  const opts = { failuresPerWindow: 2, windowS: 60, blockS: 60, redisUrl: TEST_REDIS_URL };
  const [a, b] = await Promise.all([createAuthLimiter(opts), createAuthLimiter(opts)]);
  try {
    const ip = `198.51.100.${crypto.randomInt(255)}-${crypto.randomUUID()}`;
    expect(await b.retryAfterS(ip)).toBe(0);
    for (let i = 0; i < 3; i++) await a.fail(ip);
    expect(await b.retryAfterS(ip)).toBeGreaterThan(0);
    expect(await a.retryAfterS("203.0.113.1-" + crypto.randomUUID())).toBe(0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
