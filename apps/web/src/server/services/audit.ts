import type { PrismaClient } from "@heron/db";

import { actorOf, type Principal } from "../auth/principal";

export type AuditInput = { action: string; target?: string | null; detail?: Record<string, unknown>; ip?: string | null };

/** Security-relevant actions, append-only; read by admins (`audit.list`, dashboard /admin). */
export function createAuditService(prisma: PrismaClient) {
  return {
    async record(p: Principal | null, e: AuditInput) {
      const { actor, actorLabel } = actorOf(p);
      await prisma.auditEvent.create({
        data: { actor, actorLabel, action: e.action, target: e.target ?? null, detail: (e.detail as object | undefined) ?? undefined, ip: e.ip ?? null },
      });
    },
    async list(limit = 100) {
      return prisma.auditEvent.findMany({ orderBy: { id: "desc" }, take: limit });
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
