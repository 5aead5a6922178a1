import type { Database } from "../client";
import { createPgMetricsStore } from "./pg-store";
import { createSqliteMetricsStore } from "./sqlite-store";
import type { MetricsStore } from "./types";

export type { MetricsStore, KeySummary } from "./types";
export { bucketPoints } from "./bucket";

export function createMetricsStore(db: Database): MetricsStore {
  return db.provider === "sqlite" ? createSqliteMetricsStore(db.sqlite) : createPgMetricsStore(db.pool);
}
