import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

import type { ProjectRole } from "../auth/principal";

/** Who has which role in a project. */
export function createMemberService(prisma: PrismaClient) {
  return {
    async list(projectId: string) {
      const rows = await prisma.projectMember.findMany({ where: { projectId }, include: { user: true }, orderBy: { createdAt: "asc" } });
      return rows.map((m) => ({ userId: m.userId, email: m.user.email, name: m.user.name, role: m.role as ProjectRole, createdAt: m.createdAt }));
    },
    async set(projectId: string, userId: string, role: ProjectRole) {
      const before = await prisma.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } } });
      await prisma.projectMember.upsert({ where: { projectId_userId: { projectId, userId } }, update: { role }, create: { projectId, userId, role } });
      return { previousRole: (before?.role as ProjectRole | undefined) ?? null };
    },
    async remove(projectId: string, userId: string) {
      const r = await prisma.projectMember.deleteMany({ where: { projectId, userId } });
      if (r.count === 0) throw new AppError("NOT_FOUND", `user "${userId}" is not a member of this project`);
    },
  };
}
export type MemberService = ReturnType<typeof createMemberService>;
