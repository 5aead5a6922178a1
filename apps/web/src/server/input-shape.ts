/**
 * Deeper than this, a decoded client value is refused. The database's query engine parses the
 * query as JSON with a recursion limit (128 levels, wrapping included): a run config nested a
 * few hundred levels deep failed there as an internal error instead of a 400.
 */
export const MAX_INPUT_DEPTH = 64;

/** a UTF-16 surrogate without its partner: legal in a JS string, refused by the query engine */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a decoded client payload cannot be handed to the database, or null: strings (values or
 * keys) with lone surrogates, or nesting deeper than MAX_INPUT_DEPTH. Checked where input
 * enters (tRPC, socket events, sign-in), before authorization reads the database with it.
 */
export function inputProblem(value: unknown, depth = 0): string | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? "strings must be valid Unicode (found a lone surrogate)" : null;
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return null;
  if (depth >= MAX_INPUT_DEPTH) return `input is nested deeper than ${MAX_INPUT_DEPTH} levels`;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const problem = inputProblem(key) ?? inputProblem((value as Record<string, unknown>)[key], depth + 1);
    if (problem) return problem;
  }
  return null;
}
