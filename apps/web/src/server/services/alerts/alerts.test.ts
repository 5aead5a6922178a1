// Alert rules end to end against a real server and a real webhook receiver on 127.0.0.1: a
// failed job's run, a metric crossing a threshold, an SDK alert, a retry after HTTP 500, and
// each webhook format's shape.
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { PROTOCOL_VERSION } from "@heron/core";
import { init } from "@heron/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTestServer, type TestServer, waitFor } from "../../../testing/harness";
import { alertPayload } from "./payloads";
import { redactUrl } from "./schemas";

type Received = { path: string; body: Record<string, unknown> };

/** a webhook receiver: records every POST; `failFirst` paths answer 500 once */
async function startReceiver() {
  const received: Received[] = [];
  const failFirst = new Set<string>();
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, body: JSON.parse(data) as Record<string, unknown> });
      if (failFirst.delete(path)) res.writeHead(500).end("try again");
      else res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, failFirst, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const v = PROTOCOL_VERSION;

describe("alerts", () => {
  let t: TestServer;
  let hook: Awaited<ReturnType<typeof startReceiver>>;
  const delivered = (path: string) => waitFor(async () => hook.received.find((r) => r.path === path), 10_000, `a POST to ${path}`);

  beforeAll(async () => {
    hook = await startReceiver();
    t = await startTestServer("sqlite");
    await t.api.project.create.mutate({ name: "alerts" });
  });
  afterAll(async () => {
    await t?.close();
    await hook?.close();
  });

  it("delivers an alert to a local webhook receiver when a job fails", async () => {
    await t.api.alert.create.mutate({ projectId: "alerts", name: "job failed", event: "run.failed", webhookUrl: `${hook.url}/failed?token=s3cret` });
    const { token } = await t.api.runner.createToken.mutate({ name: "r1" });
    const s = await t.connect(token);
    await s.emitWithAck("runner:hello", { v, name: "r1", hostname: "h", cpus: 1, memoryBytes: 1, backend: "wasm", slots: 1, queues: ["default"] });
    const { jobId } = await t.api.job.submit.mutate({
      projectId: "alerts",
      spec: { kind: "train", dataset: "synthetic", model: "mlp-mnist", epochs: 1, batchSize: 8, lr: 0.01 },
    });
    const claim = await s.emitWithAck("runner:claim", { v });
    if (!claim.ok || !claim.lease) throw new Error("no lease");
    await s.emitWithAck("job:report", { v, jobId, fencingToken: claim.lease.fencingToken, status: "failed", exitCode: 3, error: "CUDA out of memory" });
    const got = await delivered("/failed?token=s3cret");
    const runId = (await t.api.job.get.query({ jobId })).runId!;
    expect(got.body).toMatchObject({ event: "run.failed", level: "error", project: "alerts", runId, url: expect.stringContaining(`/runs/${runId}`) });
    expect(String(got.body.text)).toMatch(/crashed: CUDA out of memory/);
    // the log shows it delivered; the rule list never shows the token
    const log = await waitFor(async () => (await t.api.alert.deliveries.query({ projectId: "alerts" })).find((d) => d.status === "delivered"), 5000, "log");
    expect(log).toMatchObject({ ruleName: "job failed", attempts: 1, lastStatus: 200, runId });
    const rules = await t.api.alert.list.query({ projectId: "alerts" });
    expect(JSON.stringify(rules)).not.toContain("s3cret");
    // announced twice (job report and SDK), a run fires a rule once
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.received.filter((r) => r.path.startsWith("/failed")).length).toBe(1);
    s.close();
  });

  it("fires a threshold rule once when a metric crosses it, and retries after a 500", async () => {
    await t.api.alert.create.mutate({
      projectId: "alerts",
      name: "loss diverged",
      event: "metric.above",
      metricKey: "train/loss",
      threshold: 5,
      webhookUrl: `${hook.url}/loss`,
      format: "slack",
    });
    hook.failFirst.add("/loss");
    const s = await t.connect();
    const init = await s.emitWithAck("run:init", { v, project: "alerts", name: "diverging" });
    if (!init.ok) throw new Error(init.error);
    const pts = (from: number, values: number[]) => values.map((value, i) => ({ key: "train/loss", step: from + i, value, ts: Date.now() }));
    await s.emitWithAck("run:log", { v, runId: init.runId, seq: 1, points: pts(0, [2, 1.5, 1]) });
    await s.emitWithAck("run:log", { v, runId: init.runId, seq: 2, points: pts(3, [7, 9]) });
    await s.emitWithAck("run:log", { v, runId: init.runId, seq: 3, points: pts(5, [12]) });
    // the first POST gets 500; the retry (1 s later) is delivered
    const row = await waitFor(
      async () => (await t.api.alert.deliveries.query({ projectId: "alerts" })).find((d) => d.ruleName === "loss diverged" && d.status === "delivered"),
      10_000,
      "the retried delivery",
    );
    expect(row.attempts).toBe(2);
    const posts = hook.received.filter((r) => r.path === "/loss");
    expect(posts.length).toBe(2);
    expect(String(posts[0]!.body.text)).toMatch(/train\/loss = 7 > 5 at step 3/);
    s.close();
  });

  it("sends the SDK's run.alert to sdk.alert rules (Discord shape)", async () => {
    await t.api.alert.create.mutate({ projectId: "alerts", name: "script", event: "sdk.alert", webhookUrl: `${hook.url}/sdk`, format: "discord" });
    const quiet = { captureSystem: false, captureConsole: false, captureExit: false, captureEnvironment: false } as const;
    const run = await init({ project: "alerts", name: "talker", host: t.server.url, apiKey: t.key, dir: path.join(t.home, "talker"), ...quiet });
    run.alert({ title: "Accuracy low", text: "acc 0.1 < 0.5", level: "warn" });
    await run.finish();
    const got = await delivered("/sdk");
    expect(got.body).toMatchObject({ content: expect.stringContaining("Accuracy low"), embeds: [{ title: "Accuracy low", color: 0xf59e0b }] });
  });

  it("alerts when a runner goes offline (its last connection closes)", async () => {
    await t.api.alert.create.mutate({ projectId: "alerts", name: "runner down", event: "runner.offline", webhookUrl: `${hook.url}/runner`, format: "feishu" });
    const { token } = await t.api.runner.createToken.mutate({ name: "gpu-box" });
    const s = await t.connect(token);
    await s.emitWithAck("runner:hello", { v, name: "gpu-box", hostname: "h2", cpus: 1, memoryBytes: 1, backend: "wasm", slots: 1, queues: ["default"] });
    s.close();
    const got = await delivered("/runner");
    expect(got.body).toEqual({ msg_type: "text", content: { text: expect.stringMatching(/Runner gpu-box \(h2\) went offline/) } });
  });

  it("refuses non-http webhooks and metric rules without a key; maintainers edit and delete", async () => {
    await expect(t.api.alert.create.mutate({ projectId: "alerts", name: "x", event: "run.finished", webhookUrl: "file:///etc/passwd" })).rejects.toThrow(
      /http/,
    );
    await expect(t.api.alert.create.mutate({ projectId: "alerts", name: "x", event: "metric.nan", webhookUrl: hook.url })).rejects.toThrow(/metricKey/);
    const rule = await t.api.alert.create.mutate({ projectId: "alerts", name: "nan", event: "metric.nan", metricKey: "loss", webhookUrl: hook.url });
    expect((await t.api.alert.update.mutate({ projectId: "alerts", ruleId: rule.id, enabled: false })).enabled).toBe(false);
    await t.api.alert.delete.mutate({ projectId: "alerts", ruleId: rule.id });
    expect((await t.api.alert.list.query({ projectId: "alerts" })).map((r) => r.name)).not.toContain("nan");
  });

  it("shapes payloads for Slack and Feishu, and redacts URLs", () => {
    const m = { event: "run.finished", title: "Run r finished", text: "done", level: "info" as const, project: "p", runId: "r", url: "http://h/runs/r", ts: 1 };
    expect(alertPayload("slack", m)).toMatchObject({ text: expect.stringContaining("Run r finished") });
    expect(alertPayload("feishu", m)).toEqual({ msg_type: "text", content: { text: expect.stringContaining("http://h/runs/r") } });
    expect(redactUrl("https://hooks.slack.com/services/T000/B000/XXXX")).toBe("https://hooks.slack.com/service…");
  });
});
