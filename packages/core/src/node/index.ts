// Node-only entry (@heron/core/node): tracking SDK, secrets, host info. Never import from the browser.
export * from "./secrets";
export * from "./sdk";
export { runJob } from "../jobs/run-job";
export { jobContextFromRun, type RunContextOptions } from "./job-context";
