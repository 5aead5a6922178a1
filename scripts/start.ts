// `npm start`: the server (dashboard + API + socket.io, one port), a local runner, and — on
// the first start — a demo job training the MNIST MLP (784-128-10) in project "demo".
import fs from "node:fs";
import path from "node:path";

import { createLogger, createProcessExecutor, RunnerDaemon } from "@heron/runner";
import { readEnv } from "@heron/web/env";
import { startServer } from "@heron/web/server";

const DEMO_SPEC = { kind: "train", dataset: "mnist", model: "mlp-mnist", epochs: 5, batchSize: 64, lr: 0.001, seed: 0 } as const;

process.env.NEXT_TELEMETRY_DISABLED = "1";
const env = readEnv();
const server = await startServer({ dev: process.argv.includes("--dev") });
const { services } = server;

// The local runner's token is kept (mode 0600) so restarts reuse the same runner.
const tokenFile = path.join(env.HERON_HOME, "local-runner.token");
let token = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, "utf8").trim() : "";
if (!token || !(await services.auth.authenticate(token))) {
  token = (await services.runners.createToken("local", ["default"])).token;
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
}
const runner = new RunnerDaemon({
  server: server.url,
  token,
  name: "local",
  slots: 1,
  home: env.HERON_HOME,
  executor: createProcessExecutor(),
  logger: createLogger("heron-runner"),
});
await runner.start();

const demo = await services.projects.ensure("demo");
if ((await services.prisma.job.count({ where: { projectId: demo.id } })) === 0) {
  await services.jobs.submit("demo", DEMO_SPEC);
  console.log("submitted the demo job: the MNIST MLP (784-128-10) for 5 epochs");
}

console.log(`\n  Heron is running → http://localhost:${server.port}   (project "demo" shows the demo run)\n`);

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void runner
      .stop()
      .then(() => server.close())
      .finally(() => process.exit(0));
  });
}
