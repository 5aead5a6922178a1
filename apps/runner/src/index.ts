export { RunnerDaemon, type DaemonOptions } from "./daemon";
export { createProcessExecutor, type Executor, type ExecutionHandle } from "./executor";
export { describeHost, probeBackend } from "./host-info";
