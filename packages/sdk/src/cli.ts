#!/usr/bin/env node
// `npx heron sync <dir…>` from a project that installed @heron/sdk: uploads runs logged offline,
// or left behind when the server was unreachable, from their run directories.
import { parseArgs } from "node:util";

import { syncDirs } from "./sync-command";

const USAGE = `usage: heron sync <dir…> [--host <url>] [--api-key <key>]

  sync   upload run directories (offline runs, runs whose server was unreachable, runs whose
         process died); syncing twice changes nothing
         --host      server URL (default HERON_HOST, then the URL the run was started with)
         --api-key   API key (default HERON_API_KEY)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { host: { type: "string" }, "api-key": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...dirs] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== "sync" || !dirs.length) {
    console.error(command === "sync" ? "heron sync: give at least one run directory" : `heron: unknown command "${command}"`);
    console.error(USAGE);
    return 2;
  }
  return (await syncDirs(dirs, { host: values.host, apiKey: values["api-key"] })) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.error(`heron: ${err.message}`);
    process.exitCode = 2;
  },
);
