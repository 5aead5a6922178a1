import type { PrismaClient } from "@heron/db";

export type ControllerLease = {
  /** true while this process holds the lease (renewed, or taken over from an expired holder) */
  acquire(): Promise<boolean>;
  /** lets another process take over at once (a clean shutdown) */
  release(): Promise<void>;
  readonly holder: string;
};

/**
 * A named lease in the ControllerLease table: one server process at a time acts for the
 * controller. Both the renewal and the take-over are one conditional UPDATE (holder is me, or
 * the lease expired), so on PostgreSQL two processes racing for an expired lease serialise on
 * the row and the loser's WHERE no longer matches; the first acquisition is an INSERT whose
 * primary key lets only one process win.
 */
export function createControllerLease(prisma: PrismaClient, name: string, holder: string, ttlMs: number): ControllerLease {
  return {
    holder,
    async acquire() {
      const now = new Date();
      const expiresAt = new Date(now.getTime() + ttlMs);
      const taken = await prisma.controllerLease.updateMany({
        where: { name, OR: [{ holder }, { expiresAt: { lt: now } }] },
        data: { holder, expiresAt },
      });
      if (taken.count > 0) return true;
      const existing = await prisma.controllerLease.findUnique({ where: { name } });
      if (existing) return false;
      try {
        await prisma.controllerLease.create({ data: { name, holder, expiresAt } });
        return true;
      } catch {
        // another process inserted it between our read and write: it holds the lease
        return false;
      }
    },
    async release() {
      await prisma.controllerLease.updateMany({ where: { name, holder }, data: { expiresAt: new Date(0) } });
    },
  };
}
