export { type DaemonOptions, RunnerDaemon } from "./daemon";
export {
  createProcessExecutor,
  type ExecutionContext,
  type ExecutionHandle,
  type ExecutionResult,
  type Executor,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_STOPPED,
} from "./executor";
export { describeHost, probeBackend } from "./host-info";
export { createLogger } from "./logger";
export { createFakeExecutor, type FakeJobRecord } from "./testing/fake-executor";
export { type RunnerProcess, spawnRunner } from "./testing/spawn-runner";
