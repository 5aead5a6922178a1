/**
 * `@heron/core/ml` — node-only training core (tfjs). Keep browser code on `@heron/core`.
 */
export { selectBackend, currentBackend, backendLoadErrors, BACKEND_NAMES, type BackendName, type SelectedBackend } from "./backend";
export { registerWasmGradKernels } from "./wasm-kernels";
export { runTrainJob, evaluate, type EvalResult } from "./trainer";
export { buildModel, describeModel, isModelName, MODEL_NAMES, type ModelName, type SeedModel, type ModelDescription, type ForwardResult } from "./models/seed-models";
export type { ForwardOptions, LayerInfo } from "./models/layers";
export { formatModelSummary, printModels } from "./models/summary";
export { planMemory, chooseBatchSize, memoryBudget, formatBytes, DATASET_INPUT_SHAPES, type MemoryPlan, type PlanOptions } from "./memory-planner";
export { loadDataset, Batcher, encodeCifarRecords, CIFAR_CLASSES, FASHION_CLASSES, DATASET_NAMES, type Dataset, type Split, type LoadDatasetOptions } from "./datasets";
export { Optimizer, type OptimizerConfig } from "./optim";
export { learningRate, type ScheduleName } from "./schedule";
export { saveCheckpoint, loadLatestCheckpoint, readCheckpoint, listCheckpoints, type CheckpointState } from "./checkpoint";
export { Rng, hash32 } from "./rng";
