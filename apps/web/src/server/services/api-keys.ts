import { AppError } from "@heron/core";
import { generateSecret, hashSecret } from "@heron/core/node";
import type { PrismaClient } from "@heron/db";

import type { Scope } from "../auth/principal";

export type CreateKeyInput = { name: string; scope?: Scope; projectIds?: string[]; expiresAt?: Date; userId: string | null };

const publicKey = (k: {
  id: string;
  name: string;
  prefix: string;
  scope: string;
  userId: string | null;
  projectIds: unknown;
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scope: k.scope as Scope,
  userId: k.userId,
  projectIds: Array.isArray(k.projectIds) ? (k.projectIds as string[]) : null,
  expiresAt: k.expiresAt,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
  revokedAt: k.revokedAt,
});

/** API keys belong to a user; the key is returned once and only its SHA-256 is stored. */
export function createApiKeyService(prisma: PrismaClient) {
  return {
    async create(input: CreateKeyInput) {
      if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new AppError("BAD_REQUEST", "expiresAt must be in the future");
      if (input.projectIds?.length) {
        const found = await prisma.project.count({ where: { id: { in: input.projectIds } } });
        if (found !== new Set(input.projectIds).size) throw new AppError("NOT_FOUND", "projectIds names a project that does not exist");
      }
      const key = generateSecret("api");
      const row = await prisma.apiKey.create({
        data: {
          name: input.name,
          keyHash: hashSecret(key),
          prefix: key.slice(0, 7),
          scope: input.scope ?? "write",
          userId: input.userId,
          projectIds: input.projectIds ?? undefined,
          expiresAt: input.expiresAt ?? null,
        },
      });
      return { ...publicKey(row), key };
    },
    /** Keys of one user, or every key (admins: userId undefined). Hashes never leave this service. */
    async list(userId: string | null | undefined) {
      const rows = await prisma.apiKey.findMany({ where: userId === undefined ? {} : { userId }, orderBy: { createdAt: "asc" } });
      return rows.map(publicKey);
    },
    async get(id: string) {
      const k = await prisma.apiKey.findUnique({ where: { id } });
      if (!k) throw new AppError("NOT_FOUND", `API key "${id}" not found`);
      return publicKey(k);
    },
    async revoke(id: string) {
      const r = await prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
      if (r.count === 0) await this.get(id);
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
