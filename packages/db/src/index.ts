export { openDatabase, isPostgresUrl, type Database, type DatabaseOptions } from "./client";
export { withoutBusyWait } from "./sqlite-busy";
export { runMigrations, listMigrations } from "./migrate";
export type { PrismaClient } from "./generated/sqlite/client";
export type * as Models from "./generated/sqlite/models";
export { createMetricsStore, bucketPoints, type MetricsStore, type KeySummary } from "./metrics";
