export { init, Run, type InitOptions } from "./run";
export { flattenMetrics } from "./flatten";
