import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";

export function createProjectService(prisma: PrismaClient) {
  return {
    async list() {
      const projects = await prisma.project.findMany({ orderBy: { createdAt: "asc" }, include: { _count: { select: { runs: true, jobs: true } } } });
      return projects.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        createdAt: p.createdAt,
        runCount: p._count.runs,
        jobCount: p._count.jobs,
      }));
    },
    async create(name: string, description?: string) {
      const existing = await prisma.project.findUnique({ where: { name } });
      if (existing) throw new AppError("CONFLICT", `project "${name}" already exists`);
      return prisma.project.create({ data: { name, description } }).catch((err: unknown) => {
        // two creates of one name at once: both passed the check above, the second insert loses
        if ((err as { code?: unknown }).code === "P2002") throw new AppError("CONFLICT", `project "${name}" already exists`);
        throw err;
      });
    },
    /** SDK init creates the project on first use, like wandb/swanlab do. */
    async ensure(name: string) {
      return prisma.project.upsert({ where: { name }, update: {}, create: { name } });
    },
    async get(idOrName: string) {
      const p = await prisma.project.findFirst({ where: { OR: [{ id: idOrName }, { name: idOrName }] } });
      if (!p) throw new AppError("NOT_FOUND", `project "${idOrName}" not found`);
      return p;
    },
  };
}
export type ProjectService = ReturnType<typeof createProjectService>;
