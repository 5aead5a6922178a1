/** {train: {acc: 0.9}, "train/loss": 0.3} → {"train/acc": 0.9, "train/loss": 0.3} */
export function flattenMetrics(input: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(input)) {
    const key = prefix ? `${prefix}/${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) flattenMetrics(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}
