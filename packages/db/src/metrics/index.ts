import type { Database } from "../client";
import { createPgIo } from "./pg-ops";
import { createSqliteIo } from "./sqlite-ops";
import { createStore } from "./store";
import type { MetricsStore } from "./types";

export type { MetricsStore, KeySummary } from "./types";
export { bucketPoints } from "./bucket";

/** The metrics store on the database's raw driver handle (see store.ts for the layout). */
export function createMetricsStore(db: Database): MetricsStore {
  return createStore(db.provider === "sqlite" ? createSqliteIo(db.sqlite) : createPgIo(db.pool));
}
