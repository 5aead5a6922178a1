/** How a double is stored: SQLite turns NaN into NULL, so non-finite values get a kind tag. */
export const FINITE = 0;
export const NAN = 1;
export const POS_INF = 2;
export const NEG_INF = 3;

export function kindOf(v: number): number {
  if (Number.isFinite(v)) return FINITE;
  if (Number.isNaN(v)) return NAN;
  return v > 0 ? POS_INF : NEG_INF;
}

export function valueOf(value: number | null, kind: number): number {
  if (kind === FINITE && value !== null) return value;
  if (kind === POS_INF) return Infinity;
  if (kind === NEG_INF) return -Infinity;
  return NaN;
}
