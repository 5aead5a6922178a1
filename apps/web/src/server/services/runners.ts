import { AppError, type RunnerHello } from "@heron/core";
import { generateSecret, hashSecret } from "@heron/core/node";
import type { PrismaClient } from "@heron/db";

/** `wentOffline`: a runner's last connection closed (alert rules on runner.offline) */
export function createRunnerService(prisma: PrismaClient, wentOffline: (runnerId: string) => void = () => undefined) {
  return {
    /** A runner token is shown once; only its hash is stored. */
    async createToken(name: string, allowedQueues: string[]) {
      const token = generateSecret("runner");
      const runner = await prisma.runner.create({ data: { name, tokenHash: hashSecret(token), allowedQueues } });
      return { runnerId: runner.id, token, queues: allowedQueues };
    },
    async revoke(runnerId: string) {
      const r = await prisma.runner.updateMany({ where: { id: runnerId }, data: { revokedAt: new Date(), status: "offline" } });
      if (r.count === 0) throw new AppError("NOT_FOUND", `runner "${runnerId}" not found`);
    },
    async hello(runnerId: string, info: RunnerHello) {
      return prisma.runner.update({
        where: { id: runnerId },
        data: {
          name: info.name,
          hostname: info.hostname,
          cpus: info.cpus,
          memoryBytes: info.memoryBytes,
          backend: info.backend,
          gpus: info.gpus,
          slots: info.slots,
          queues: info.queues,
          status: "online",
          lastHeartbeatAt: new Date(),
        },
      });
    },
    async setStatus(runnerId: string, status: "online" | "offline" | "draining") {
      const u = await prisma.runner.updateMany({ where: { id: runnerId, status: { not: status } }, data: { status } });
      if (u.count && status === "offline") wentOffline(runnerId);
    },
    async list() {
      const runners = await prisma.runner.findMany({
        where: { revokedAt: null },
        orderBy: { createdAt: "asc" },
        include: { jobs: { where: { status: "running" }, select: { id: true } } },
      });
      return runners.map(({ tokenHash: _hidden, jobs, ...r }) => ({ ...r, busySlots: jobs.length, runningJobIds: jobs.map((j) => j.id) }));
    },
    async get(runnerId: string) {
      const r = await prisma.runner.findUnique({ where: { id: runnerId }, include: { jobs: { where: { status: "running" }, select: { id: true } } } });
      if (!r) throw new AppError("NOT_FOUND", `runner "${runnerId}" not found`);
      const { tokenHash: _hidden, jobs, ...rest } = r;
      return { ...rest, busySlots: jobs.length, runningJobIds: jobs.map((j) => j.id) };
    },
  };
}
export type RunnerService = ReturnType<typeof createRunnerService>;
