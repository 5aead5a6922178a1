import { z } from "zod";

/**
 * Globs over dotted names ("layers.0.attn.q_proj", "encoder.block.3.weight"), as LoRA
 * targets and parameter freezing use them. `*` matches any run of characters inside one
 * dotted segment, `**` as a whole segment matches zero or more segments; every other
 * character is literal. Matching is a dynamic program over (pattern, name) positions, so
 * its cost is bounded by their product whatever the pattern holds: no backtracking regex,
 * a spec cannot stall the server's event loop. Browser-safe (the dashboard's form uses it).
 */

/** longest pattern a spec may carry */
export const GLOB_MAX_LENGTH = 200;
/** most patterns one list (lora.targets, freeze) may carry */
export const GLOB_MAX_COUNT = 64;

/** one dotted segment of a pattern: a globstar, or literal parts separated by `*` */
type Segment = { globstar: true } | { globstar: false; parts: string[] };
export type CompiledGlob = { source: string; segments: Segment[] };

/** why a pattern is unusable, or null when it compiles */
export function globProblem(pattern: string): string | null {
  if (pattern.length === 0) return "must not be empty";
  if (pattern.length > GLOB_MAX_LENGTH) return `is longer than ${GLOB_MAX_LENGTH} characters`;
  if (pattern.split(".").some((s) => s === "")) return "has an empty segment (a leading, trailing or doubled dot)";
  return null;
}

/** `suffix`: the pattern may also match a dotted suffix of the name (PEFT's "q_proj") */
export function compileGlob(pattern: string, o: { suffix?: boolean } = {}): CompiledGlob {
  const problem = globProblem(pattern);
  if (problem) throw new Error(`glob "${pattern.slice(0, 40)}" ${problem}`);
  const segments = (o.suffix ? ["**", ...pattern.split(".")] : pattern.split(".")).map((s): Segment =>
    s === "**" ? { globstar: true } : { globstar: false, parts: s.split("*") },
  );
  // consecutive globstars match what one does
  return { source: pattern, segments: segments.filter((s, i) => !(s.globstar && segments[i - 1]?.globstar)) };
}

/** does one name segment match literal parts joined by `*`s (parts.length - 1 stars) */
function matchSegment(parts: string[], text: string): boolean {
  if (parts.length === 1) return parts[0] === text;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (first.length + last.length > text.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  // between the fixed ends, taking each middle part at its earliest position is optimal:
  // a later one never leaves more room for the parts after it (one pass, no backtracking)
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (p === "") continue;
    const found = text.indexOf(p, at);
    if (found < 0 || found + p.length > end) return false;
    at = found + p.length;
  }
  return true;
}

export function matchGlob(glob: CompiledGlob, name: string): boolean {
  const segs = glob.segments;
  const words = name.split(".");
  // ok[j]: the first i pattern segments match the first j name segments
  let ok: boolean[] = Array.from({ length: words.length + 1 }, (_, j) => j === 0);
  for (const seg of segs) {
    const next: boolean[] = new Array<boolean>(words.length + 1).fill(false);
    if (seg.globstar) {
      let any = false;
      for (let j = 0; j <= words.length; j++) next[j] = any = any || ok[j]!;
    } else {
      for (let j = 1; j <= words.length; j++) next[j] = ok[j - 1]! && matchSegment(seg.parts, words[j - 1]!);
    }
    ok = next;
  }
  return ok[words.length]!;
}

/** a compiled matcher for a pattern list: true when any pattern matches the name */
export function compileGlobs(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length > GLOB_MAX_COUNT) throw new Error(`at most ${GLOB_MAX_COUNT} globs, got ${patterns.length}`);
  const globs = patterns.map((p) => compileGlob(p));
  return (name) => globs.some((g) => matchGlob(g, name));
}

/** a spec field holding glob patterns; its errors name the field and the entry */
export function globListSchema(field: string) {
  return z
    .array(z.string({ error: `${field} entries must be strings` }))
    .max(GLOB_MAX_COUNT, `${field} holds at most ${GLOB_MAX_COUNT} patterns`)
    .superRefine((list, ctx) => {
      list.forEach((p, i) => {
        const problem = globProblem(p);
        if (problem) ctx.addIssue({ code: "custom", path: [i], message: `${field}[${i}] ${problem}` });
      });
    });
}
