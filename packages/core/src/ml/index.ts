/**
 * `@heron/core/ml` — node-only training core (tfjs). Keep browser code on `@heron/core`.
 */
export { BACKEND_NAMES, backendLoadErrors, type BackendName, currentBackend, selectBackend, type SelectedBackend } from "./backend";
export { checkpointDirName, type CheckpointState, listCheckpoints, loadLatestCheckpoint, readCheckpoint, saveCheckpoint } from "./checkpoint";
export {
  Batcher,
  CIFAR_CLASSES,
  type Dataset,
  DATASET_NAMES,
  encodeCifarRecords,
  FASHION_CLASSES,
  loadDataset,
  type LoadDatasetOptions,
  type Split,
} from "./datasets";
export { type AppliedFreeze, applyFreeze, type FreezeOptions, type FreezePlan, planFreeze, reportParamCounts, selectByGlobs } from "./freeze";
export {
  chooseBatchSize,
  DATASET_INPUT_SHAPES,
  DATASET_TRAIN_SIZES,
  formatBytes,
  memoryBudget,
  type MemoryPart,
  type MemoryPlan,
  memorySummary,
  memoryTable,
  planMemory,
  type PlanOptions,
} from "./memory-planner";
export { measureStepPeak } from "./memory-planner-measure";
export type { ForwardOptions, LayerInfo } from "./models/layers";
export {
  buildModel,
  describeModel,
  type ForwardResult,
  isModelName,
  MODEL_NAMES,
  type ModelDescription,
  type ModelName,
  type ReferenceModel,
} from "./models/reference-models";
export { formatModelSummary, printModels } from "./models/summary";
export { Optimizer, type OptimizerConfig } from "./optim";
export { GradPool, type GradPoolOptions, type PoolGrads } from "./parallel/grad-pool";
export { grantedThreads, MIN_ROWS_PER_THREAD, resolveThreads, type ThreadChoice } from "./parallel/threads";
export { hash32, Rng } from "./rng";
export { learningRate, type ScheduleName } from "./schedule";
export { loadStageInit, type StageInitResult, stageWeights } from "./stage-init";
export { type EvalResult, evaluate, runTrainJob } from "./trainer";
export { registerWasmGradKernels } from "./wasm-kernels";
