/**
 * uPlot draws a series as segments between points, so a series with one finite value (a final
 * test accuracy, a 1-epoch job's eval) draws nothing. These helpers find such series so the
 * chart can show a marker and the value instead.
 */

/** the index of the column's only finite value; null when it has none or more than one */
export function singlePointIndex(col: ArrayLike<number | null | undefined>): number | null {
  let found: number | null = null;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (found !== null) return null;
    found = i;
  }
  return found;
}

/** an x range uPlot can draw when every point shares one x (min === max would collapse the axis) */
export function padSingleX(min: number | null, max: number | null): [number | null, number | null] {
  if (min === null || max === null || min !== max) return [min, max];
  const pad = Math.max(1, Math.abs(min) * 0.05);
  return [min - pad, max + pad];
}
