import type { Command } from "commander";

/** `npx heron runner-token --name N [--server URL] [--api-key K]` — creates a runner token (shown once). */
export function register(program: Command) {
  program
    .command("runner-token")
    .description("create a runner token on the server (printed once; only its hash is stored)")
    .requiredOption("--name <name>", "runner name shown in the dashboard")
    .option("--server <url>", "Heron server URL", process.env.HERON_HOST ?? "http://127.0.0.1:3000")
    .option("--api-key <key>", "an API key of the server (default HERON_API_KEY)", process.env.HERON_API_KEY)
    .action(async (o: { name: string; server: string; apiKey?: string }) => {
      if (!o.apiKey) program.error("an API key is required: --api-key or HERON_API_KEY");
      // tRPC over plain HTTP (superjson envelope), so the runner needs no tRPC client
      const res = await fetch(`${o.server.replace(/\/+$/, "")}/api/trpc/runner.createToken`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.apiKey}` },
        body: JSON.stringify({ json: { name: o.name } }),
      }).catch((err: Error) => program.error(`cannot reach ${o.server}: ${err.message}`));
      const body = (await res.json().catch(() => null)) as {
        result?: { data?: { json?: { runnerId: string; token: string } } };
        error?: { json?: { message?: string } };
      } | null;
      const created = body?.result?.data?.json;
      if (!res.ok || !created) program.error(`server refused: ${body?.error?.json?.message ?? res.status}`);
      console.log(`runner ${created.runnerId}\ntoken  ${created.token}\n\nnpm run runner -- --server ${o.server} --token ${created.token} --name ${o.name}`);
    });
}
