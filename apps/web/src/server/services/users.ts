import { AppError } from "@heron/core";
import type { PrismaClient } from "@heron/db";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";

import type { InstanceRole } from "../auth/principal";

/** argon2id with OWASP's second recommended setting (19 MiB, 2 passes); the library's default algorithm is argon2id. */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** Verified against when an email is unknown, so a miss costs what a wrong password costs. */
let dummyHash: Promise<string> | null = null;

const publicUser = (u: { id: string; email: string; name: string | null; role: string; createdAt: Date; disabledAt: Date | null }) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role as InstanceRole,
  createdAt: u.createdAt,
  disabledAt: u.disabledAt,
});
export type PublicUser = ReturnType<typeof publicUser>;

export function createUserService(prisma: PrismaClient) {
  return {
    async create(input: { email: string; password?: string; name?: string; role?: InstanceRole }): Promise<PublicUser> {
      const email = input.email.trim().toLowerCase();
      if (await prisma.user.findUnique({ where: { email } })) throw new AppError("CONFLICT", `a user with email "${email}" already exists`);
      const passwordHash = input.password ? await argon2Hash(input.password, ARGON2) : null;
      return publicUser(await prisma.user.create({ data: { email, name: input.name ?? null, passwordHash, role: input.role ?? "user" } }));
    },
    async list(): Promise<PublicUser[]> {
      return (await prisma.user.findMany({ orderBy: { createdAt: "asc" } })).map(publicUser);
    },
    async get(userId: string): Promise<PublicUser> {
      const u = await prisma.user.findUnique({ where: { id: userId } });
      if (!u) throw new AppError("NOT_FOUND", `user "${userId}" not found`);
      return publicUser(u);
    },
    async findByEmail(email: string) {
      const u = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
      return u ? publicUser(u) : null;
    },
    async setRole(userId: string, role: InstanceRole): Promise<PublicUser> {
      await this.get(userId);
      return publicUser(await prisma.user.update({ where: { id: userId }, data: { role } }));
    },
    /** The user when email and password match an enabled account; null otherwise (same time either way). */
    async verifyPassword(email: string, password: string): Promise<PublicUser | null> {
      const u = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
      dummyHash ??= argon2Hash("not a password", ARGON2);
      const ok = await argon2Verify(u?.passwordHash ?? (await dummyHash), password).catch(() => false);
      return u && u.passwordHash && ok && !u.disabledAt ? publicUser(u) : null;
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
