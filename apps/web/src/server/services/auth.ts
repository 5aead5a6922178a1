import { hashSecret, secretKind } from "@heron/core/node";
import type { PrismaClient } from "@heron/db";

/** Who is calling. `job` principals are a job attempt's SDK: limited to that job's run. */
export type Principal =
  | { kind: "api"; keyId: string; role: string }
  | { kind: "local" }
  | { kind: "job"; jobId: string; runId: string; projectId: string; fencingToken: number }
  | { kind: "runner"; runnerId: string };

export function createAuthService(prisma: PrismaClient, localKeyHash: string | null) {
  return {
    async authenticate(secret: string | undefined | null): Promise<Principal | null> {
      if (!secret) return null;
      const hash = hashSecret(secret);
      if (localKeyHash && hash === localKeyHash) return { kind: "local" };
      switch (secretKind(secret)) {
        case "runner": {
          const runner = await prisma.runner.findUnique({ where: { tokenHash: hash } });
          if (!runner || runner.revokedAt) return null;
          return { kind: "runner", runnerId: runner.id };
        }
        case "job": {
          const job = await prisma.job.findUnique({ where: { jobTokenHash: hash } });
          // the token dies with its attempt: a late process of an old attempt is refused here
          if (!job || job.status !== "running" || !job.runId) return null;
          return { kind: "job", jobId: job.id, runId: job.runId, projectId: job.projectId, fencingToken: job.fencingToken };
        }
        default: {
          // API keys: ours start with hk_, but a bootstrap key may be any string
          const key = await prisma.apiKey.findUnique({ where: { keyHash: hash } });
          if (!key || key.revokedAt) return null;
          return { kind: "api", keyId: key.id, role: key.role };
        }
      }
    },
    async ensureBootstrapKey(key: string) {
      const keyHash = hashSecret(key);
      await prisma.apiKey.upsert({ where: { keyHash }, update: {}, create: { name: "bootstrap", keyHash, prefix: key.slice(0, 6), role: "admin" } });
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
