// Helper process of `npm run bench -- sdk`: gives the server the same work one batch of the
// measured online run gives it, at a moment the benchmark chooses — so the server's ingest,
// which shares this machine's cores with the training, lands in the disabled learner's
// windows as much as in the online one's (see sdk.ts). Each line "<steps>" on stdin cuts and
// sends one batch of that many steps of the benchmark's 10-key dict, logged ahead to an online
// run of its own (so the batch reaches the server as soon after the trigger as A's does).
// Args: <host> <apiKey> <dir>
import readline from "node:readline";

import { init } from "@heron/sdk";

import { tenKeys } from "./ten-keys";

const [host, apiKey, dir] = process.argv.slice(2);
const run = await init({
  project: "bench-sdk",
  name: "mirror",
  host,
  apiKey,
  dir,
  captureSystem: false,
  captureConsole: false,
  captureExit: false,
  flushIntervalMs: 3_600_000,
  flushPoints: 1_000_000,
});
let step = 0;
/** logs the next batch's points ahead, so a trigger only has to cut and send it */
const prepare = (n: number) => {
  for (let i = 0; i < n; i++) {
    step++;
    run.log(tenKeys(step, 1 / step), { step });
  }
};
let prepared = 0;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const n = Number(line);
  if (prepared !== n) prepare(n); // first trigger (or a new size): nothing ready yet
  void run.flush();
  setImmediate(() => ((prepared = n), prepare(n)));
});
process.stdin.on("end", () => void run.finish().then(() => process.exit(0)));
console.log("READY");
