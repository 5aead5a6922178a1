import path from "node:path";

/**
 * `root/part/part…` for names that came from elsewhere (the server, a job spec): each part
 * must be one plain path segment, so the result can only lie inside `root`. Throws (with
 * "refused") on an empty part, `.`/`..`, a separator, NUL, or anything absolute.
 */
export function containedPath(root: string, ...parts: string[]): string {
  for (const p of parts) {
    if (typeof p !== "string" || p === "" || p === "." || p === ".." || /[/\\\0]/.test(p) || path.isAbsolute(p)) {
      throw new Error(`path segment ${JSON.stringify(String(p).slice(0, 80))} refused: it must be a plain name inside ${root}`);
    }
  }
  return path.join(path.resolve(root), ...parts);
}
