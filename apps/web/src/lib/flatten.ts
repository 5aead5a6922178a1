/** Nested config → "a.b.c" keys with display strings, for table columns and diffs. */
export function flattenConfig(input: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  if (input === null || input === undefined) return out;
  if (typeof input !== "object" || Array.isArray(input)) {
    out[prefix] = typeof input === "string" ? input : JSON.stringify(input);
    return out;
  }
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}
