/** Distinct, colour-blind-friendly-ish run colours readable on light and dark backgrounds. */
const PALETTE = ["#2563eb", "#e4572e", "#17a2b8", "#9c27b0", "#f59e0b", "#10b981", "#ef4488", "#6366f1", "#84cc16", "#a16207", "#0ea5e9", "#db2777"];

/** A view colours its runs by position (so 10 selected runs never share a colour), the same in every chart, legend and table of that view. */
export function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** `#rrggbb` → rgba with alpha, for bands and raw lines under a smoothed one. */
export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
