import { AppError, formatIssues } from "@heron/core";
import type { z } from "zod";

/** A raw route's input checked against its schema: a 400 that names what was wrong, or the parsed value. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError("BAD_REQUEST", `invalid ${what}: ${formatIssues(r.error.issues)}`);
  return r.data;
}

/** A percent-encoded URL segment, decoded; malformed encoding is the caller's 400, not a thrown URIError. */
export function decodeSegment(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AppError("BAD_REQUEST", `malformed percent-encoding in the ${what}`);
  }
}
