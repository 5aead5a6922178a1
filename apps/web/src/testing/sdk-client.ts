// A training script for the SDK tests, run as a child process (it gets killed, crashes,
// receives SIGINT). HERON_HOST / HERON_API_KEY / HERON_HOME come from the environment.
//   node --import tsx sdk-client.ts <scenario> <project>
// Prints "RUN <id> <dir>" once the run exists, and "STEP <n>" as it goes.
// HERON_TEST_RESUME=<id> <dir>: resume that run from that directory (resume "allow").
import { init } from "@heron/sdk";

import { valueAt } from "./sdk-helpers";

const [scenario = "exit", project = "sdk-test"] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const [resumeId, resumeDir] = (process.env.HERON_TEST_RESUME ?? "").split(" ");
const resume = resumeId ? ({ id: resumeId, dir: resumeDir, resume: "allow" } as const) : {};
const run = await init({ project, captureSystem: false, captureConsole: scenario !== "kill", flushIntervalMs: 100, ...resume });
process.stdout.write(`RUN ${run.id} ${run.dir}\n`);

switch (scenario) {
  case "exit": {
    // returns without finish(): the loop running dry ends the run as finished
    for (let step = 0; step < 100; step++) run.log({ a: valueAt(0, step), b: valueAt(1, step) });
    console.log("done");
    break;
  }
  case "continue": {
    // busy right away without yielding (as a rewind through the runner would come first):
    // what the server has meanwhile is what init itself finished
    const until = Date.now() + 1_500;
    while (Date.now() < until);
    // the i-th step after the resume, with other values than the first process logged:
    // a step logged by both would show
    for (let i = 0; i < 100; i++) run.log({ a: valueAt(2, i), b: valueAt(3, i) });
    break;
  }
  case "throw": {
    for (let step = 0; step < 50; step++) run.log({ a: valueAt(0, step) });
    await sleep(50);
    throw new Error("boom: the training diverged");
  }
  case "kill":
  case "sigint": {
    // logs until killed / interrupted
    for (let step = 0; ; step++) {
      run.log({ a: valueAt(0, step), b: valueAt(1, step) });
      if (step % 20 === 0) {
        process.stdout.write(`STEP ${step}\n`);
        await sleep(10);
      }
    }
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
