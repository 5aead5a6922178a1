// Property-based fuzzing of everything a client can send: every tRPC procedure, every socket
// event and every raw HTTP route gets mutated and random payloads. Each must answer a clear
// 4xx (or an ack with an error) in time, never a 5xx, a hang or a leaked internal, and the data
// seeded before the run must come out untouched. `FUZZ_RUNS` raises the cases per target
// (`npm run fuzz`), `FUZZ_SEED` replays another sequence, `FUZZ_SHRINK=1` shrinks a failure.
import { PROTOCOL_VERSION } from "@heron/core";
import fc from "fast-check";
import { pino } from "pino";
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  assertEach,
  describe as show,
  emitWithin,
  encodeInput,
  envelopeArb,
  FUZZ_RUNS,
  hostileValue,
  leakIn,
  payloadFor,
  type RawAnswer,
  rawRequest,
  stillAnswers,
} from "../testing/fuzz";
import { eventBases, type FuzzIds, procedureBases } from "../testing/fuzz-payloads";
import { restrictTo, snapshotKept } from "../testing/fuzz-snapshot";
import { startTestServer, type TestServer } from "../testing/harness";
import { addTeamMember } from "../testing/team";
import { EVENT_POLICY, PROCEDURE_POLICY } from "./auth/policy";
import { appRouter } from "./routers";

/** a property's case count scales with FUZZ_RUNS; so does the time it may take */
const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 500;
const PROCEDURES = Object.keys(PROCEDURE_POLICY).sort();
const EVENTS = Object.keys(EVENT_POLICY).sort();
/** the procedure walk sends FUZZ_RUNS cases to each procedure: its budget grows with their number (a loaded CI host needs up to ~40 ms a case) */
const PROCEDURES_TIMEOUT_MS = FUZZ_TIMEOUT_MS + FUZZ_RUNS * PROCEDURES.length * 40;
const procedureType = (path: string) => (appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)[path]!._def.type;

/** a 4xx tRPC answer (or a 2xx for an input that happened to be valid), in time, without internals */
function checkTrpcAnswer(res: RawAnswer, sent: string): void {
  const what = `${res.status} ${res.body.slice(0, 500)}\nsent: ${sent.slice(0, 500)}`;
  if (res.status >= 500 || res.status < 200) throw new Error(`server error: ${what}`);
  if (res.body.includes("INTERNAL_SERVER_ERROR")) throw new Error(`an internal error inside the answer: ${what}`);
  const leak = leakIn(res.body, sent);
  if (leak) throw new Error(`answer leaks internals (${leak}): ${what}`);
  // Node itself answers 431 with no body when a GET's ?input= outgrows its header limit
  if (res.status === 431) return;
  if (res.status >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new Error(`a 4xx that is not JSON: ${what}`);
    }
    const errors = ([] as unknown[])
      .concat(parsed)
      .map((e) => (e as { error?: { json?: { message?: unknown } } }).error?.json?.message)
      .filter((m) => m !== undefined);
    if (!errors.length || errors.some((m) => typeof m !== "string" || !m.trim())) throw new Error(`a 4xx without a message: ${what}`);
  }
}

/** `{ok:true,…}` or `{ok:false, error}` with a message that quotes nothing internal */
function checkAck(ack: unknown, sent: string): void {
  const what = `${show(ack).slice(0, 500)}\nsent: ${sent.slice(0, 500)}`;
  if (!ack || typeof ack !== "object" || typeof (ack as { ok?: unknown }).ok !== "boolean") throw new Error(`not an ack: ${what}`);
  const { ok, error } = ack as { ok: boolean; error?: unknown };
  if (ok) return;
  if (typeof error !== "string" || !error.trim()) throw new Error(`a refusal without a message: ${what}`);
  const leak = leakIn(error, sent);
  if (leak) throw new Error(`ack leaks internals (${leak}): ${what}`);
}

describe("fuzz", () => {
  let t: TestServer;
  let ids: FuzzIds;
  let runnerToken: string;
  let before: Awaited<ReturnType<typeof snapshotKept>>;
  const errorLogs: string[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  let admin: Socket;
  let runner: Socket;

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    // error-level lines are how the server reports what it did not expect: the fuzz run must cause none
    const logger = pino({ level: "warn" }, { write: (line: string) => void ((JSON.parse(line) as { level: number }).level >= 50 && errorLogs.push(line)) });
    // garbage keys count as failed authentications: a real limit would lock the admin key out of 127.0.0.1
    t = await startTestServer("sqlite", { logger, authLimits: { failuresPerWindow: 1_000_000 } });
    const kept = await t.api.project.create.mutate({ name: "fuzz-kept", description: "seeded before the fuzz run" });
    const scratch = await t.api.project.create.mutate({ name: "fuzz-scratch" });
    await addTeamMember(t, "kept@fuzz.test", { project: kept.id, role: "viewer", scope: "read" });
    const sdk = await t.connect();
    const init = await sdk.emitWithAck("run:init", {
      v: PROTOCOL_VERSION,
      project: "fuzz-kept",
      name: "kept",
      config: { lr: 0.1, layers: [64, 32] },
      tags: ["seed"],
      notes: "keep me",
    });
    if (!init.ok) throw new Error(init.error);
    const points = Array.from({ length: 60 }, (_, i) => [
      { key: "loss", step: i, value: 1 / (i + 1), ts: 1_700_000_000_000 + i },
      { key: "acc", step: i * 2, value: i === 7 ? ("NaN" as const) : i / 60, ts: 1_700_000_000_000 + i },
    ]).flat();
    const logged = await sdk.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: init.runId,
      seq: 1,
      points,
      texts: [{ key: "samples", step: 1, rows: [{ text: "kept text" }], ts: 1_700_000_000_000 }],
      logs: [{ stream: "stdout", line: "kept line", ts: 1_700_000_000_000 }],
      summary: { best: 0.9 },
    });
    if (!logged.ok) throw new Error(logged.error);
    // a finished run: no stale sweep or heartbeat changes its status while the fuzzer runs
    const finished = await sdk.emitWithAck("run:finish", { v: PROTOCOL_VERSION, runId: init.runId, state: "finished" });
    if (!finished.ok) throw new Error(finished.error);
    const scratchRun = await sdk.emitWithAck("run:init", { v: PROTOCOL_VERSION, project: "fuzz-scratch", name: "scratch" });
    if (!scratchRun.ok) throw new Error(scratchRun.error);
    sdk.close();
    // the kept job sits on a queue the fuzzed runner may not serve: a valid claim cannot lease it
    const keptJob = await t.api.job.submit.mutate({
      projectId: kept.id,
      queue: "kept-only",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 },
    });
    const scratchJob = await t.api.job.submit.mutate({
      projectId: scratch.id,
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 32, lr: 0.01 },
    });
    const r = await t.api.runner.createToken.mutate({ name: "fuzz-runner" });
    runnerToken = r.token;
    ids = {
      keptProjectId: kept.id,
      keptRunId: init.runId,
      keptJobId: keptJob.jobId,
      scratchProjectId: scratch.id,
      scratchRunId: scratchRun.runId,
      scratchJobId: scratchJob.jobId,
      runnerId: r.runnerId,
    };
    before = await snapshotKept(t, ids);
    admin = await t.connect();
    runner = await t.connect(runnerToken);
  });

  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    await t?.close();
  });

  it("covers every procedure of the router and every event of the policy table", () => {
    expect(Object.keys(procedureBases(ids)).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
    expect(Object.keys(eventBases(ids)).sort()).toEqual(EVENTS);
  });

  it(
    "answers every tRPC procedure's mutated and random inputs (admin key) with a 4xx or a valid answer",
    async () => {
      const bases = procedureBases(ids);
      await assertEach(
        PROCEDURES,
        (p) => `tRPC ${p}`,
        0,
        (path) =>
          fc.asyncProperty(
            payloadFor(bases[path]!, "trpc"),
            envelopeArb,
            fc.constantFrom("right", "right", "right", "right", "wrong", "batch"),
            async (input, env, how) => {
              const isQuery = procedureType(path) === "query";
              const encoded = encodeInput(input, env);
              const batch = how === "batch";
              const asGet = how === "wrong" ? !isQuery : isQuery;
              const paths = batch ? `${path},${path}` : path;
              const wire = batch ? `{"0":${encoded},"1":${encoded}}` : encoded;
              const query = [batch ? "batch=1" : "", asGet ? `input=${encodeURIComponent(wire)}` : ""].filter(Boolean).join("&");
              const res = await rawRequest(t.server.url, {
                method: asGet ? "GET" : "POST",
                path: `/api/trpc/${paths}${query ? `?${query}` : ""}`,
                headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
                body: asGet ? undefined : wire,
              });
              checkTrpcAnswer(res, wire);
            },
          ),
      );
    },
    PROCEDURES_TIMEOUT_MS,
  );

  it(
    "refuses every tRPC procedure with 401 without a valid key, whatever the input",
    async () => {
      const bases = procedureBases(ids);
      const printable = fc.stringMatching(/^[\x21-\x7e]{0,120}$/);
      const credentials = fc.oneof(
        fc.constant<Record<string, string>>({}),
        printable.map((k) => ({ authorization: `Bearer ${k}` })),
        printable.map((k) => ({ authorization: k })),
        fc.constantFrom<Record<string, string>>(
          { authorization: `Bearer ${"hk_test_"}${"0".repeat(24)}` },
          { authorization: "Basic YWRtaW46YWRtaW4=" },
          { authorization: "Bearer " },
          { cookie: "heron_session=hs_forged" },
        ),
        printable.map((c) => ({ cookie: `heron_session=${c.replace(/;/g, "")}` })),
      );
      await assertEach(
        PROCEDURES,
        (p) => `tRPC ${p} without a key`,
        100,
        (path) =>
          fc.asyncProperty(payloadFor(bases[path]!, "trpc"), credentials, async (input, headers) => {
            const isQuery = procedureType(path) === "query";
            const wire = encodeInput(input, { kind: "superjson" });
            const res = await rawRequest(t.server.url, {
              method: isQuery ? "GET" : "POST",
              path: `/api/trpc/${path}${isQuery ? `?input=${encodeURIComponent(wire)}` : ""}`,
              headers: { ...headers, "content-type": "application/json" },
              body: isQuery ? undefined : wire,
            });
            checkTrpcAnswer(res, wire);
            if (res.status !== 401 && res.status !== 431) throw new Error(`expected 401, got ${res.status} ${res.body.slice(0, 300)} with ${show(headers)}`);
          }),
        Math.max(5, Math.ceil(FUZZ_RUNS / 3)),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "acks every socket event's mutated and random payloads, from an admin and from a runner, without internals",
    async () => {
      const bases = eventBases(ids);
      await assertEach(
        EVENTS,
        (e) => `socket ${e}`,
        200,
        (event) => {
          const forRunner = EVENT_POLICY[event]!.principals.includes("runner");
          // mostly the principal the event is for (so validation is what is reached), sometimes the other
          const sender = fc.constantFrom(forRunner, forRunner, forRunner, !forRunner);
          const how = event === "unsubscribe" ? fc.constant("noAck" as const) : fc.constantFrom("ack", "ack", "ack", "ack", "noAck", "extraArgs");
          return fc.asyncProperty(payloadFor(bases[event]!, "socket"), sender, how, hostileValue("socket"), async (payload, asRunner, mode, extra) => {
            const sock = asRunner ? runner : admin;
            const sent = show(payload);
            if (mode === "noAck") {
              sock.emit(event as "unsubscribe", payload);
              if (!(await stillAnswers(sock))) throw new Error(`the socket stopped answering after ${event} ${sent.slice(0, 300)}`);
              return;
            }
            const ack = await emitWithin(sock, event, mode === "extraArgs" ? [payload, extra] : [payload]);
            checkAck(ack, sent + show(extra));
          });
        },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answers unknown socket events with a refusal",
    async () => {
      const reserved = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
      const name = fc
        .oneof(fc.string({ maxLength: 40 }), fc.constantFrom("__proto__", "constructor", "toString", "run:init ", "RUN:INIT", "job:", "hasOwnProperty"))
        .filter((n) => !reserved.has(n) && !EVENT_POLICY[n]);
      await assertEach(
        ["unknown"],
        () => "socket unknown events",
        300,
        () =>
          fc.asyncProperty(name, hostileValue("socket"), fc.boolean(), async (event, payload, asRunner) => {
            checkAck(await emitWithin(asRunner ? runner : admin, event, [payload]), event + show(payload));
          }),
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answers every raw HTTP route's hostile requests with a 2xx or 4xx, in time",
    async () => {
      const segment = fc.oneof(
        fc.string({ maxLength: 60 }).map(encodeURIComponent),
        fc.constantFrom("%ZZ", "%", "%00", "..", "%2e%2e", "%2F..%2F", "%C0%AF", "%ED%A0%80", "a".repeat(4000), ids.keptRunId, ids.scratchRunId, "__proto__"),
      );
      const families: { name: string; path: fc.Arbitrary<string> }[] = [
        { name: "/api/health", path: fc.constantFrom("/api/health", "/api/health?", "/api/health?x=%ZZ&x=1", "/api/healthz", "/api/health/") },
        { name: "/api/local-key", path: fc.constantFrom("/api/local-key", "/api/local-key?x=1", "/api/local-key/") },
        {
          name: "/api/auth/*",
          path: fc.oneof(
            fc.constantFrom("/api/auth/sign-in", "/api/auth/sign-out", "/api/auth/sign-in?next=//evil.example", "/api/auth/"),
            segment.map((s) => `/api/auth/${s}`),
          ),
        },
        { name: "/api/runs/:id/metrics.csv", path: segment.map((s) => `/api/runs/${s}/metrics.csv`) },
        {
          // the kept run is left out: a random body that happens to be a valid finish would end it
          name: "/api/v1/*",
          path: fc.oneof(
            fc.constantFrom("/api/v1/runs", "/api/v1/openapi.json", "/api/v1/", "/api/v1/runs/", `/api/v1/runs/${ids.scratchRunId}`),
            segment
              .filter((x) => x !== ids.keptRunId)
              .chain((x) =>
                fc.constantFrom(
                  `/api/v1/runs/${x}`,
                  `/api/v1/runs/${x}/batches`,
                  `/api/v1/runs/${x}/finish`,
                  `/api/v1/runs/${x}/config`,
                  `/api/v1/runs/${x}/heartbeat`,
                ),
              ),
          ),
        },
        {
          // reads of the kept project; writes name upload ids and versions that do not exist
          name: "/api/artifacts*",
          path: fc.oneof(
            fc.constantFrom(
              "/api/artifacts",
              "/api/artifacts/",
              "/api/artifacts?projectId=fuzz-kept",
              "/api/artifacts/resolve?projectId=fuzz-kept&ref=x:production",
              "/api/artifacts/resolve?projectId=fuzz-kept&ref=..%2F..",
              "/api/artifacts/uploads",
              "/api/artifacts/versions",
              "/api/artifacts/uses",
              `/api/artifacts/uploads/up_${"0".repeat(32)}`,
            ),
            segment.map((s) => `/api/artifacts/${s}`),
            segment.chain((s) =>
              fc.constantFrom(
                `/api/artifacts/${s}/files/${s}`,
                `/api/artifacts/fuzz-missing-version/files/a/${s}`,
                `/api/artifacts/uploads/${s}`,
                `/api/artifacts/resolve?projectId=${s}&ref=${s}`,
                `/api/artifacts?projectId=${s}&type=${s}`,
              ),
            ),
          ),
        },
        {
          name: "/api/trpc/*",
          path: fc.oneof(
            segment.map((s) => `/api/trpc/${s}`),
            segment.map((s) => `/api/trpc/project.list,${s}?batch=1&input=${s}`),
            fc.constantFrom("/api/trpc/", "/api/trpc/project.list?input=%ZZ", "/api/trpc/run.get?input=%7B", "/api/trpc/__proto__.list"),
          ),
        },
        {
          name: "/socket.io*",
          path: fc.oneof(
            fc.constantFrom(
              "/socket.io",
              "/socket.io/",
              "/socket.io/?EIO=4&transport=polling",
              "/socket.io/?EIO=3&transport=websocket",
              "/socket.io/?EIO=4&transport=polling&sid=forged",
            ),
            segment.map((s) => `/socket.io${s}`),
          ),
        },
        {
          name: "anything else",
          path: fc.oneof(
            segment.map((s) => `/${s}`),
            segment.map((s) => `/api/${s}`),
            fc.constantFrom("/", "//", "/api", "/api/", "/runs/x", "/.env", "/%2e%2e/etc/passwd"),
          ),
        },
      ];
      const printable = fc.stringMatching(/^[\x20-\x7e]{0,100}$/);
      const headers = fc.record(
        {
          authorization: fc.oneof(fc.constant(`Bearer ${t.key}`), fc.constant(`Bearer ${runnerToken}`), printable),
          cookie: fc.oneof(fc.constant("heron_session=hs_forged"), printable),
          origin: fc.constantFrom("http://evil.example", "null", t.server.url),
          host: fc.constantFrom("evil.example", `127.0.0.1:${t.server.port}`, "[::1]", "a".repeat(300)),
          "content-type": fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"),
          "x-forwarded-for": fc.constantFrom("203.0.113.9", "garbage", "127.0.0.1, 10.0.0.1"),
        },
        { requiredKeys: [] },
      );
      const body = fc.oneof(
        fc.constant(undefined),
        fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
        fc.record({ email: hostileValue("socket").map(show), password: hostileValue("socket").map(show) }, { requiredKeys: [] }).map((j) => JSON.stringify(j)),
        fc.uint8Array({ maxLength: 2000 }),
        fc.constantFrom("{", '{"email":', "null", "[]", "x".repeat(20_000), JSON.stringify({ email: "a@b.c", password: "p".repeat(8000) })),
      );
      const method = fc.constantFrom("GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
      await assertEach(
        families,
        (f) => `HTTP ${f.name}`,
        400,
        (f) =>
          fc.asyncProperty(method, f.path, headers, body, async (m, p, h, b) => {
            const res = await rawRequest(t.server.url, { method: m, path: p, headers: h, body: b });
            const what = `${m} ${p.slice(0, 200)} ${show(h)} → ${res.status} ${res.body.slice(0, 300)}`;
            if (res.status >= 500 || res.status < 200) throw new Error(`server error: ${what}`);
            const leak = leakIn(res.body, p + show(h) + show(b));
            if (leak) throw new Error(`answer leaks internals (${leak}): ${what}`);
            if ((p === "/api/health" || p.startsWith("/api/health?")) && res.status !== 200) throw new Error(`health did not answer 200: ${what}`);
          }),
        FUZZ_RUNS * 2,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it("afterwards: health answers promptly, the seeded data is intact, nothing internal went wrong", async () => {
    const started = Date.now();
    const health = await rawRequest(t.server.url, { method: "GET", path: "/api/health" });
    expect(health.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(admin.connected && runner.connected).toBe(true);
    expect(restrictTo(await snapshotKept(t, ids), before)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(rejections.map(String)).toEqual([]);
    expect(errorLogs).toEqual([]);
  });
});
