// Browser-safe entry: schemas, protocol types, pure helpers. No node or tfjs imports here.
export * from "./charts/smoothing";
export * from "./errors";
export * from "./glob";
export * from "./jobs/job-context";
export * from "./protocol/events";
export * from "./protocol/packed-points";
export * from "./protocol/peers";
export * from "./protocol/runner-messages";
export * from "./redact";
export * from "./schemas/common";
export * from "./schemas/distill-spec";
export * from "./schemas/finetune-spec";
export * from "./schemas/job-spec";
export * from "./schemas/metrics";
export * from "./schemas/train-spec";
export * from "./sorted";
export * from "./sweeps";
