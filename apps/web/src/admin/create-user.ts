import { openDatabase } from "@heron/db";

import { readEnv } from "../env";
import { createAuditService } from "../server/services/audit";
import { createUserService } from "../server/services/users";

/**
 * Creates a user straight in the server's database (HERON_HOME / DATABASE_URL of this host):
 * how the first admin of a team deployment comes to exist, before anyone can sign in.
 */
export async function createUserInDatabase(input: { email: string; password: string; name?: string; role: "admin" | "user" }) {
  const env = readEnv();
  const db = await openDatabase({ home: env.HERON_HOME, databaseUrl: env.DATABASE_URL });
  try {
    const user = await createUserService(db.prisma).create(input);
    await createAuditService(db.prisma).record(null, {
      action: "user.created",
      target: `user:${user.id}`,
      detail: { email: user.email, role: user.role, via: "cli" },
    });
    return user;
  } finally {
    await db.close();
  }
}
