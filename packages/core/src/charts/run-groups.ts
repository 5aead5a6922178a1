import { z } from "zod";

/**
 * How runs are grouped for mean ± band charts and the folded runs table: by tag (a run with
 * several tags belongs to each of their groups), by its job group (`run.group`, e.g. a
 * distillation's teacher + students) or by the value of one config key (`config:optimizer.lr`,
 * a dotted path into the config).
 */
export const GroupBySchema = z
  .string()
  .max(300, "group-by is longer than 300 characters")
  .regex(/^(tag|group|config:[^\s]+)$/, 'group-by must be "tag", "group" or "config:<key>" (e.g. "config:lr")');
export type GroupBy = z.infer<typeof GroupBySchema>;

/** The fields of a run that grouping reads (as run.list returns them). */
export type GroupableRun = { config?: unknown; tags?: unknown; group?: string | null };

export const NO_VALUE = "(none)";

/** a config value by dotted path; a key that itself contains dots (flattened configs) wins */
function configValue(config: unknown, path: string): unknown {
  if (!config || typeof config !== "object") return undefined;
  const obj = config as Record<string, unknown>;
  if (path in obj) return obj[path];
  const dot = path.indexOf(".");
  if (dot < 0) return undefined;
  return configValue(obj[path.slice(0, dot)], path.slice(dot + 1));
}

function label(v: unknown): string {
  if (v === undefined || v === null || v === "") return NO_VALUE;
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The group names a run falls in (one, or one per tag); runs without the value go to "(none)". */
export function runGroupNames(run: GroupableRun, by: GroupBy): string[] {
  if (by === "tag") {
    const tags = Array.isArray(run.tags) ? run.tags.filter((t): t is string => typeof t === "string" && t.length > 0) : [];
    return tags.length ? [...new Set(tags)] : [NO_VALUE];
  }
  if (by === "group") return [label(run.group)];
  return [label(configValue(run.config, by.slice("config:".length)))];
}

/** Runs folded into groups, in order of first appearance; "(none)" last. */
export function groupRuns<R extends GroupableRun>(runs: readonly R[], by: GroupBy): { name: string; runs: R[] }[] {
  const groups = new Map<string, R[]>();
  for (const r of runs)
    for (const name of runGroupNames(r, by)) {
      const list = groups.get(name);
      if (list) list.push(r);
      else groups.set(name, [r]);
    }
  const out = [...groups].map(([name, rs]) => ({ name, runs: rs }));
  return [...out.filter((g) => g.name !== NO_VALUE), ...out.filter((g) => g.name === NO_VALUE)];
}
