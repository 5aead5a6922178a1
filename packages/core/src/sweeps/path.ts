import { AppError } from "../errors";
import type { JsonValue, SweepParams } from "./spec";

/** Segments that would reach an object's prototype instead of its own data. */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);
/** a key (letters, digits, '_' and '-', not starting with a digit) or an array index */
const SEGMENT = /^(?:[A-Za-z_][A-Za-z0-9_-]*|0|[1-9][0-9]{0,5})$/;

/** Why `path` cannot name a field of a job spec, or null when it can. */
export function checkParamPath(path: string): string | null {
  if (path.length === 0) return "a parameter path must not be empty";
  if (path.length > 256) return "a parameter path must be at most 256 characters";
  const segments = path.split(".");
  for (const seg of segments) {
    if (seg === "") return `"${path}" has an empty segment (write a.b.c)`;
    if (FORBIDDEN_SEGMENTS.has(seg)) return `"${path}" may not use the segment ${seg}`;
    if (!SEGMENT.test(seg)) return `"${path}": segment "${seg}" must be a key (letters, digits, _ and -) or an array index`;
  }
  if (/^[0-9]/.test(segments[0] ?? "")) return `"${path}" must start with a key: the job spec is an object`;
  return null;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null;
}

/**
 * Returns a copy of `spec` with every dot path of `params` set. Missing objects along a path are
 * created (a sweep may set an optional field the template omits); a path through a string,
 * number or null, or an index past an array's end, is refused with the path named, as is any
 * segment that would reach a prototype. `spec` itself is never modified.
 */
export function applyParams(spec: Readonly<Record<string, unknown>>, params: Readonly<SweepParams>): Record<string, unknown> {
  const out = structuredClone(spec) as Record<string, unknown>;
  for (const [path, value] of Object.entries(params)) setPath(out, path, value);
  return out;
}

function setPath(root: Record<string, unknown>, path: string, value: JsonValue): void {
  const problem = checkParamPath(path);
  if (problem) throw new AppError("BAD_REQUEST", `parameters.${path}: ${problem}`);
  const segments = path.split(".");
  let node: Container = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    const where = segments.slice(0, i).join(".") || "the spec";
    if (Array.isArray(node)) {
      if (!/^[0-9]+$/.test(seg)) throw new AppError("BAD_REQUEST", `parameters.${path}: ${where} is an array; "${seg}" is not an index`);
      const index = Number(seg);
      // index === length appends; anything further would leave holes JSON turns into nulls
      if (index > node.length) throw new AppError("BAD_REQUEST", `parameters.${path}: ${where} has ${node.length} items; index ${index} is past its end`);
      if (last) node[index] = structuredClone(value);
      else node = descend(node, index, path, segments.slice(0, i + 1).join("."));
      continue;
    }
    if (last) node[seg] = structuredClone(value);
    else node = descend(node, seg, path, segments.slice(0, i + 1).join("."));
  }
}

/** The container at node[key], created as {} when absent; a non-object there is refused. */
function descend(node: Container, key: string | number, path: string, here: string): Container {
  // own properties only: "toString" on a plain object is a method of its prototype, not data
  const own = Object.prototype.hasOwnProperty.call(node, key);
  const child: unknown = own ? (node as Record<string | number, unknown>)[key] : undefined;
  if (child === undefined) {
    const created: Record<string, unknown> = {};
    (node as Record<string | number, unknown>)[key] = created;
    return created;
  }
  if (!isContainer(child)) {
    throw new AppError("BAD_REQUEST", `parameters.${path}: ${here} is ${child === null ? "null" : `a ${typeof child}`}, not an object`);
  }
  return child;
}
