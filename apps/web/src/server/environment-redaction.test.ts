import { PROTOCOL_VERSION, type RunLogAck } from "@heron/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer } from "../testing/harness";

/** Whatever client captured them, credentials never reach the stored environment a dashboard shows. */
describe("run environment redaction on the server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer("sqlite");
  });
  afterAll(async () => t?.close());

  it("redacts git remote credentials and secret argv values at init and in later batches", async () => {
    const socket = await t.connect();
    const init = (await socket.emitWithAck("run:init", {
      v: PROTOCOL_VERSION,
      project: "redact",
      name: "r",
      environment: { argv: ["node", "train.js", "--api-key", "sk-live-123", "--lr=0.1"], git: { remote: "https://bob:ghp_tok@github.com/lab/x.git" } },
    })) as { ok: true; runId: string };
    expect(init.ok).toBe(true);
    const ack = (await socket.emitWithAck("run:log", {
      v: PROTOCOL_VERSION,
      runId: init.runId,
      seq: 1,
      writer: "0",
      points: [],
      environment: { launcher: "WANDB_API_KEY=abc python x.py" },
    })) as RunLogAck;
    expect(ack.ok).toBe(true);
    const run = await t.api.run.get.query({ runId: init.runId });
    const env = run.environment as Record<string, unknown>;
    expect(env.argv).toEqual(["node", "train.js", "--api-key", "[redacted]", "--lr=0.1"]);
    expect(env.git).toEqual({ remote: "https://[redacted]@github.com/lab/x.git" });
    expect(env.launcher).toBe("WANDB_API_KEY=[redacted] python x.py");
    expect(JSON.stringify(run)).not.toMatch(/sk-live-123|ghp_tok|abc python/);
  });
});
