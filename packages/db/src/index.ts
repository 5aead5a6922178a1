export { type Database, type DatabaseOptions, isPostgresUrl, openDatabase, type PrismaClient } from "./client";
export type * as Models from "./generated/sqlite/models";
export { bucketPoints, createMetricsStore, type KeySummary, type MetricsStore } from "./metrics";
export { listMigrations, runMigrations } from "./migrate";
export { withoutBusyWait } from "./sqlite-busy";
