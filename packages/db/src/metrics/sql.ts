/**
 * SQL shared by both drivers. The merge upserts add a disjoint set of points to a summary row
 * exactly like mergeCells() in cells.ts; every SET expression reads the row's old values
 * (standard SQL), so their order does not matter. CASE instead of LEAST/min() because SQLite's
 * two-argument min() returns NULL when either side is NULL.
 */
export const CELL_COLS = `"count","min","max","lastStep","last","lastFiniteStep","lastFinite","lastTs"`;

export function mergeSet(t: string): string {
  const newer = `excluded."lastStep" > ${t}."lastStep"`;
  const newerFinite = `excluded."lastFiniteStep" IS NOT NULL AND (${t}."lastFiniteStep" IS NULL OR excluded."lastFiniteStep" > ${t}."lastFiniteStep")`;
  return [
    `"count" = ${t}."count" + excluded."count"`,
    `"min" = CASE WHEN excluded."min" IS NULL THEN ${t}."min" WHEN ${t}."min" IS NULL OR excluded."min" < ${t}."min" THEN excluded."min" ELSE ${t}."min" END`,
    `"max" = CASE WHEN excluded."max" IS NULL THEN ${t}."max" WHEN ${t}."max" IS NULL OR excluded."max" > ${t}."max" THEN excluded."max" ELSE ${t}."max" END`,
    `"last" = CASE WHEN ${newer} THEN excluded."last" ELSE ${t}."last" END`,
    `"lastTs" = CASE WHEN ${newer} THEN excluded."lastTs" ELSE ${t}."lastTs" END`,
    `"lastStep" = CASE WHEN ${newer} THEN excluded."lastStep" ELSE ${t}."lastStep" END`,
    `"lastFinite" = CASE WHEN ${newerFinite} THEN excluded."lastFinite" ELSE ${t}."lastFinite" END`,
    `"lastFiniteStep" = CASE WHEN ${newerFinite} THEN excluded."lastFiniteStep" ELSE ${t}."lastFiniteStep" END`,
  ].join(", ");
}

export const SERIES_MERGE_EXTRA = (t: string) =>
  `, "firstStep" = CASE WHEN excluded."firstStep" < ${t}."firstStep" THEN excluded."firstStep" ELSE ${t}."firstStep" END`;
