export { init, type InitOptions } from "./init";
export { Run, type Mode, type RunState, type ImageInput, type TextRow } from "./run";
export { flattenMetrics } from "./flatten";
export { syncRunDir, type SyncResult } from "./sync";
export { syncDirs, type SyncCommandOptions } from "./sync-command";
export { collapse as collapseCarriageReturns } from "./console-capture";
export { heronCallback, type HeronCallback, type HeronCallbackOptions, type TfModelLike } from "./tfjs-callback";
