import crypto from "node:crypto";

import type { Command } from "commander";

type Options = { email: string; role: string; name?: string; password?: string; server?: string; apiKey?: string };

/**
 * `npx heron user create --email E [--role admin|user] [--password P] [--server URL --api-key K]`.
 * With an API key it asks the server (user.create); without one it writes to this host's
 * database directly — how the first admin is made, on the server host, before anyone can sign in.
 * Without --password a random one is generated and printed once.
 */
export function register(program: Command) {
  const user = program.command("user").description("manage users of a Heron server");
  user
    .command("create")
    .description("create a user (first admin: run on the server host without --api-key)")
    .requiredOption("--email <email>", "sign-in email")
    .option("--role <role>", "instance role: admin or user", "user")
    .option("--name <name>", "display name")
    .option("--password <password>", "initial password (default: a random one, printed once)")
    .option("--server <url>", "Heron server URL (with --api-key)", process.env.HERON_HOST)
    .option("--api-key <key>", "an admin API key (default HERON_API_KEY); without one the local database is used", process.env.HERON_API_KEY)
    .action(async (o: Options) => {
      if (o.role !== "admin" && o.role !== "user") program.error(`--role must be admin or user, not "${o.role}"`);
      const password = o.password ?? crypto.randomBytes(12).toString("base64url");
      if (password.length < 8) program.error("--password must be at least 8 characters");
      const input = { email: o.email, password, name: o.name, role: o.role as "admin" | "user" };
      let created: { id: string; email: string; role: string };
      if (o.apiKey) {
        const server = (o.server ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
        const res = await fetch(`${server}/api/trpc/user.create`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${o.apiKey}` },
          body: JSON.stringify({ json: input }),
        }).catch((err: Error) => program.error(`cannot reach ${server}: ${err.message}`));
        const body = (await res.json().catch(() => null)) as { result?: { data?: { json?: typeof created } }; error?: { json?: { message?: string } } } | null;
        if (!res.ok || !body?.result?.data?.json) program.error(`server refused: ${body?.error?.json?.message ?? res.status}`);
        created = body.result.data.json!;
      } else {
        // the server's own module, loaded only here: runners never need database access
        const { createUserInDatabase } = await import("@heron/web/admin");
        created = await createUserInDatabase(input).catch((err: Error) => program.error(err.message));
      }
      console.log(`created ${created.role} ${created.email} (${created.id})`);
      if (!o.password) console.log(`password: ${password}   (shown once; change it after signing in)`);
    });
}
