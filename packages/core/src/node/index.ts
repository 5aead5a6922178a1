// Node-only entry (@heron/core/node): secrets and job dispatch. Never import from the browser.
// The tracking SDK is its own package, @heron/sdk (packages/sdk).
export { runJob } from "../jobs/run-job";
export { latestCheckpointStep, listCheckpointSteps } from "../ml/checkpoint";
export { jobContextFromRun, type RunContextOptions } from "./job-context";
export * from "./secrets";
