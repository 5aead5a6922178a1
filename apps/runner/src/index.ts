export { RunnerDaemon, type DaemonOptions } from "./daemon";
export { createProcessExecutor, EXIT_FAILED, EXIT_OK, EXIT_STOPPED, type Executor, type ExecutionContext, type ExecutionHandle, type ExecutionResult } from "./executor";
export { describeHost, probeBackend } from "./host-info";
export { createFakeExecutor, type FakeJobRecord } from "./testing/fake-executor";
export { spawnRunner, type RunnerProcess } from "./testing/spawn-runner";
