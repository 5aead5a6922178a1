export { collapse as collapseCarriageReturns } from "./console-capture";
export { flattenMetrics } from "./flatten";
export { init, type InitOptions } from "./init";
export { type ImageInput, type Mode, Run, type RunState, type TextRow } from "./run";
export { type SyncResult, syncRunDir } from "./sync";
export { type SyncCommandOptions, syncDirs } from "./sync-command";
export { type HeronCallback, heronCallback, type HeronCallbackOptions, type TfModelLike } from "./tfjs-callback";
