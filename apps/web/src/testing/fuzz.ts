// Generators and probes for the fuzz suite (server/fuzz.test.ts): hostile values, mutations of
// a valid payload, and senders that time every answer out instead of waiting forever.
import http from "node:http";
import { inspect } from "node:util";

import fc from "fast-check";
import type { Socket } from "socket.io-client";
import superjson from "superjson";

/** cases per procedure / event / route family; `npm run fuzz` raises it */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 50);
/** base seed (each property adds its own offset); a failure prints the seed to rerun with */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 1_313_131);
/** every request and ack must come back within this */
export const ANSWER_MS = 5000;

/** fast-check's options for one property: fixed seed, no shrinking unless asked (a hang shrunk is minutes) */
export function fuzzOptions<Ts>(offset: number, numRuns = FUZZ_RUNS): fc.Parameters<Ts> {
  return { seed: FUZZ_SEED + offset, numRuns, endOnFailure: !process.env.FUZZ_SHRINK };
}

/** an object whose own key is `key` even when it is "__proto__" (an assignment would set the prototype) */
export function withOwnKey(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** what prototype pollution looks like on the wire: JSON.parse keeps "__proto__" as an own key */
const PROTO_PAYLOADS = [
  JSON.parse('{"__proto__":{"polluted":"yes"}}') as unknown,
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as unknown,
  JSON.parse('{"a":{"__proto__":{"isAdmin":true}},"__proto__":[]}') as unknown,
];

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "\u0000\u0001\u001f\u007f",
  "\r\n\r\n",
  "a".repeat(10_000),
  "é".repeat(3000),
  "\ud800",
  "\udfff\ud800",
  "🦀".repeat(60),
  "\u202e\u200b",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "/dev/zero",
  "%00",
  "%ZZ",
  "%2e%2e%2f",
  "file:///etc/hosts",
  "' OR 1=1 --",
  '"; DROP TABLE "Run"; --',
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "NaN",
  "Infinity",
  "-Infinity",
  "null",
  "undefined",
  "true",
  "0x10",
  "1e309",
  "-0",
  "1",
  "0",
];

/** LoRA targets / freeze lists are globs: patterns that would blow up a backtracking matcher */
export const HOSTILE_GLOBS = [
  "**",
  "**.**.**.**",
  "*".repeat(200),
  "a*".repeat(100),
  "**.".repeat(66) + "x",
  "*.".repeat(99) + "*",
  ".",
  "..",
  "a..b",
  ".a",
  "a.",
  "[a-z]+",
  "(a+)+$",
  "\\",
  "**/**",
  "a".repeat(201),
  "x".repeat(200),
  "dense.*",
  "layers.**.q_proj",
  "*a*a*a*a*a*a*a*a*a*a*b",
];

const HOSTILE_NUMBERS = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  -1,
  0.5,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e308,
  8.64e15 + 1,
];

function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

export type Transport = "trpc" | "socket";

/**
 * Any value a hostile client could put in a field. tRPC speaks superjson, so it also carries
 * bigints, Dates (invalid ones too), undefined, Maps and Sets; socket.io carries binary.
 */
export function hostileValue(transport: Transport): fc.Arbitrary<unknown> {
  const common: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.constantFrom(...HOSTILE_NUMBERS),
    fc.constantFrom<unknown>(null, undefined, true, false, [], {}, ...PROTO_PAYLOADS),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.double(),
    fc.integer(),
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.constantFrom(...HOSTILE_GLOBS), { maxLength: 70 }),
    fc.array(fc.string({ maxLength: 10 }), { minLength: 100, maxLength: 1200 }),
    fc.integer({ min: 20, max: 400 }).map((d) => nest(d, "deep")),
  ];
  const extra: fc.Arbitrary<unknown>[] =
    transport === "trpc"
      ? [fc.bigInt(), fc.date({ noInvalidDate: false }), fc.constant(new Map([["a", 1]])), fc.constant(new Set([1, 2]))]
      : [fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(0))];
  return fc.oneof(...common, ...extra);
}

/**
 * A deep copy that keeps binary and own "__proto__" keys (structuredClone keeps both). Values
 * are copied before they are placed: constants are shared between cases, and a later mutation
 * inside one would leak into every case after it.
 */
const copy = <T>(v: T): T => structuredClone(v);

type Key = string | number;
type Mutation = { kind: "drop" | "set" | "wrap" | "stringify" | "add"; at: number; key: string; value: unknown };

/** every path into a value's objects and arrays (the root excluded), capped so huge values stay cheap */
function pathsOf(v: unknown, prefix: Key[] = [], out: Key[][] = []): Key[][] {
  if (out.length > 200 || v === null || typeof v !== "object" || v instanceof Uint8Array || v instanceof Date) return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    pathsOf(child, p, out);
  }
  return out;
}

function parentOf(root: unknown, path: Key[]): Record<Key, unknown> | null {
  let v = root;
  for (const k of path.slice(0, -1)) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<Key, unknown>)[k];
  }
  return v !== null && typeof v === "object" ? (v as Record<Key, unknown>) : null;
}

function applyMutation(root: unknown, m: Mutation): unknown {
  const paths = pathsOf(root);
  if (m.kind === "add" || !paths.length) {
    // a new key on the root or on a random object inside it
    const objects = [root, ...paths.map((p) => parentOf(root, [...p, "x"]))].filter((o) => o !== null && typeof o === "object" && !Array.isArray(o));
    const target = objects[m.at % Math.max(1, objects.length)];
    if (target && typeof target === "object") withOwnKey(target as Record<string, unknown>, m.key, copy(m.value));
    return root;
  }
  const path = paths[m.at % paths.length]!;
  const parent = parentOf(root, path);
  if (!parent) return root;
  const k = path[path.length - 1]!;
  if (m.kind === "drop") {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
  } else if (m.kind === "set") parent[k] = copy(m.value);
  else if (m.kind === "wrap") parent[k] = [parent[k]];
  else parent[k] = typeof parent[k] === "object" ? describe(parent[k]) : String(parent[k] as string | number | boolean | bigint | null | undefined);
  return root;
}

function mutation(transport: Transport): fc.Arbitrary<Mutation> {
  return fc.record({
    kind: fc.constantFrom<Mutation["kind"]>("drop", "set", "set", "set", "wrap", "stringify", "add"),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "toJSON", "then", "v", "id", "runId", ""), fc.string({ maxLength: 20 })),
    value: hostileValue(transport),
  });
}

/**
 * Payloads for one target: mostly 1–3 mutations of a valid payload (so validation past the
 * first field is reached), sometimes any value at all, sometimes the valid payload itself.
 */
export function payloadFor(bases: readonly unknown[], transport: Transport): fc.Arbitrary<unknown> {
  const base = fc.constantFrom(...bases);
  return fc.oneof(
    {
      weight: 7,
      arbitrary: fc
        .tuple(base, fc.array(mutation(transport), { minLength: 1, maxLength: 3 }))
        .map(([b, ms]) => ms.reduce((v, m) => applyMutation(v, m), copy(b))),
    },
    { weight: 2, arbitrary: hostileValue(transport) },
    { weight: 1, arbitrary: base.map(copy) },
  );
}

/** what must never reach a client, unless the client sent it itself (messages may quote the input) */
const LEAKS = [
  /\n\s+at /,
  /\bat [\w.<>$]+ \(/,
  /prisma/i,
  /\/work\//,
  /\/tmp\//,
  /node_modules/,
  /\bSELECT\b/i,
  /\bINSERT INTO\b/i,
  /SQLITE_/,
  /\.[cm]?[jt]s:\d+/,
  /\b(TypeError|ReferenceError|RangeError)\b/,
  /Cannot read propert/,
  /internal server error/i,
];

/** the first pattern `answer` leaks that `sent` does not already hold, or null */
export function leakIn(answer: string, sent: string): string | null {
  const hit = LEAKS.find((re) => re.test(answer) && !re.test(sent));
  return hit ? hit.source : null;
}

/** JSON text of anything a case sent (bigints and binary included), for leak checks and failure messages */
export function describe(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `<${x.byteLength} bytes>` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

export type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string; ms: number };

/** One HTTP request with free method, path, headers and body; rejects when no answer comes in time. */
export function rawRequest(url: string, o: { method: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<RawAnswer> {
  const u = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: o.method, path: o.path, headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), ms: Date.now() - started }),
      );
      res.on("error", reject);
    });
    req.setTimeout(ANSWER_MS, () => req.destroy(new Error(`no answer to ${o.method} ${o.path.slice(0, 120)} within ${ANSWER_MS} ms`)));
    req.on("error", reject);
    req.end(o.body);
  });
}

/** the ways a tRPC input travels: superjson (as the real client), plain JSON, or superjson with a hostile `meta` */
export type Envelope = { kind: "superjson" } | { kind: "plain" } | { kind: "meta"; meta: unknown };

export const envelopeArb: fc.Arbitrary<Envelope> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Envelope>({ kind: "superjson" }) },
  { weight: 1, arbitrary: fc.constant<Envelope>({ kind: "plain" }) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.constantFrom<unknown>(
          { values: { "__proto__.polluted": ["undefined"] } },
          { values: { "": [["class", "Nope"]] } },
          { values: { runId: [["custom", "nope"]] } },
          { values: { runId: "bigint" } },
          { referentialEqualities: { "": ["__proto__.polluted"] } },
          { referentialEqualities: { runId: ["constructor.prototype.polluted"] } },
          { values: ["map"] },
          null,
        ),
        fc.jsonValue({ maxDepth: 3 }),
      )
      .map((meta): Envelope => ({ kind: "meta", meta })),
  },
);

export function encodeInput(input: unknown, env: Envelope): string {
  if (env.kind === "plain") return describe(input);
  let s: { json: unknown; meta?: unknown };
  try {
    s = superjson.serialize(input);
  } catch {
    // superjson refuses to encode "__proto__"/"constructor"/"prototype" keys; a hostile
    // client is not bound by that, and `{json}` without meta is a valid envelope
    s = { json: JSON.parse(describe(input)) as unknown };
  }
  return env.kind === "meta" ? describe({ json: s.json, meta: env.meta }) : describe(s);
}

/** an ack, or why none came: a timeout is a hang, a disconnect a dropped client */
export async function emitWithin(sock: Socket, event: string, args: unknown[]): Promise<unknown> {
  if (!sock.connected) throw new Error("the server had already dropped this socket");
  return (sock.timeout(ANSWER_MS) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> }).emitWithAck(event, ...args);
}

/** `true` when the socket still answers: an event every principal gets an ack for */
export async function stillAnswers(sock: Socket): Promise<boolean> {
  const ack = (await emitWithin(sock, "run:heartbeat", [{ v: 1, runId: "fuzz-probe-missing" }])) as { ok?: unknown };
  return typeof ack?.ok === "boolean";
}

/** runs each property of a family, naming the target and the seed in the failure */
export async function assertEach<T, Ts>(
  targets: readonly T[],
  name: (t: T) => string,
  offset: number,
  check: (t: T) => fc.IAsyncPropertyWithHooks<Ts>,
  numRuns = FUZZ_RUNS,
) {
  for (const [i, target] of targets.entries()) {
    const opts = fuzzOptions<Ts>(offset + i, numRuns);
    try {
      await fc.assert(check(target), opts);
    } catch (err) {
      // fast-check keeps the property's own error as the cause: that is the line worth reading
      const cause = (err as Error).cause;
      const why = cause instanceof Error ? (process.env.FUZZ_STACK ? (cause.stack ?? cause.message) : cause.message) : inspect(cause);
      throw new Error(`${name(target)}: ${why}\n(rerun with FUZZ_SEED=${FUZZ_SEED}; this property's seed is ${opts.seed})\n${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
