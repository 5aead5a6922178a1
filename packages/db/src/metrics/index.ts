import type { Database } from "../client";
import { createPgIo } from "./pg-ops";
import { createSqliteIo } from "./sqlite-ops";
import { createStore } from "./store";
import type { MetricsStore } from "./types";

export { bucketPoints } from "./bucket";
export type { KeySummary, MetricsStore } from "./types";

/** The metrics store on the database's raw driver handle (see store.ts for the layout). */
export function createMetricsStore(db: Database): MetricsStore {
  return createStore(db.provider === "sqlite" ? createSqliteIo(db.sqlite) : createPgIo(db.pool));
}
