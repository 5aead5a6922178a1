import type { RunAlert, RunStatus } from "@heron/core";
import type { Models, PrismaClient } from "@heron/db";
import type { Logger } from "pino";

import type { Notifier } from "../notifier";
import { createDeliveryQueue } from "./delivery-queue";
import { createRuleStore } from "./rules";
import type { AlertLevel } from "./schemas";
import { createMetricRuleCache, type LivePoint, metricTrip, STATUS_EVENTS, STATUS_LEVEL } from "./triggers";

type AlertRule = Models.AlertRuleModel;

export { redactUrl } from "./schemas";

type Fired = { runId: string | null; project: string; url: string | null; title: string; text: string; level: AlertLevel };

/**
 * Alert rules and their deliveries (docs/dashboard.md, Alerts). Triggers (a run's status, live
 * points, a runner going offline, an SDK `run.alert`) only write delivery rows and wake the
 * queue; they never wait on a webhook, and their failures are logged, never thrown at ingest.
 */
// Long because it is one object literal: rules CRUD, the triggers and the delivery queue's
// entry points, each short, sharing the prisma client, the rule cache and the queue.
export function createAlertService(prisma: PrismaClient, opts: { publicUrl: () => string; log?: Logger }) {
  const queue = createDeliveryQueue(prisma, opts.log);
  const metricRules = createMetricRuleCache(prisma);
  const rules = createRuleStore(prisma, metricRules.invalidate);
  // one trigger at a time per run, so "once per run" holds when a status is announced twice at once
  const chains = new Map<string, Promise<unknown>>();
  const runLink = (runId: string) => `${opts.publicUrl()}/runs/${runId}`;

  function serialize(key: string, fn: () => Promise<unknown>) {
    const next = (chains.get(key) ?? Promise.resolve()).then(fn).catch((err: unknown) => opts.log?.error({ err, key }, "alert trigger failed"));
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
    return next;
  }

  async function fire(rule: AlertRule, f: Fired, oncePerRun: boolean) {
    if (oncePerRun && f.runId && (await prisma.alertDelivery.count({ where: { ruleId: rule.id, runId: f.runId, event: rule.event } }))) return;
    await prisma.alertDelivery.create({ data: { ruleId: rule.id, projectId: rule.projectId, event: rule.event, ...f } });
    void queue.drain().catch((err: unknown) => opts.log?.error({ err }, "alert queue failed"));
  }

  async function runInfo(runId: string) {
    return prisma.run.findUnique({ where: { id: runId }, select: { name: true, projectId: true, error: true, project: { select: { name: true } } } });
  }

  async function onRunStatus(runId: string, status: RunStatus) {
    const events = STATUS_EVENTS[status];
    if (!events) return;
    const run = await runInfo(runId);
    if (!run) return;
    const matching = await prisma.alertRule.findMany({ where: { projectId: run.projectId, enabled: true, event: { in: events } } });
    const why = run.error ? `: ${run.error.slice(-500)}` : "";
    for (const rule of matching) {
      const title = `Run ${run.name} ${status === "stale" ? "is lost (stale)" : status}`;
      const fired = {
        runId,
        project: run.project.name,
        url: runLink(runId),
        title,
        text: `${rule.name}: run ${run.name} ${status}${why}`,
        level: STATUS_LEVEL[status] ?? "info",
      };
      await fire(rule, fired, true);
    }
  }

  async function onPoints(runId: string, points: LivePoint[]) {
    const candidates = await metricRules.rulesFor(runId);
    if (!candidates.length) return;
    let run: Awaited<ReturnType<typeof runInfo>> | undefined;
    for (const rule of candidates) {
      const trip = metricTrip(rule, points);
      if (!trip) continue;
      run ??= await runInfo(runId);
      if (!run) return;
      const title = `${rule.name}: ${trip.point.key} on run ${run.name}`;
      await fire(rule, { runId, project: run.project.name, url: runLink(runId), title, text: trip.text, level: "warn" }, true);
    }
  }

  async function onRunnerOffline(runnerId: string) {
    const runner = await prisma.runner.findUnique({ where: { id: runnerId }, select: { name: true, hostname: true } });
    const matching = await prisma.alertRule.findMany({ where: { enabled: true, event: "runner.offline" } });
    const projects = new Map((await prisma.project.findMany({ where: { id: { in: matching.map((r) => r.projectId) } } })).map((p) => [p.id, p.name]));
    const label = runner ? `${runner.name}${runner.hostname ? ` (${runner.hostname})` : ""}` : runnerId;
    for (const rule of matching) {
      const fired = {
        runId: null,
        project: projects.get(rule.projectId) ?? rule.projectId,
        url: `${opts.publicUrl()}/runners`,
        title: `Runner ${label} went offline`,
        text: `${rule.name}: runner ${label} went offline`,
        level: "warn" as const,
      };
      await fire(rule, fired, false);
    }
  }

  async function onSdkAlerts(runId: string, alerts: RunAlert[]) {
    const run = await runInfo(runId);
    if (!run) return;
    const matching = await prisma.alertRule.findMany({ where: { projectId: run.projectId, enabled: true, event: "sdk.alert" } });
    for (const a of alerts)
      for (const rule of matching)
        await fire(rule, { runId, project: run.project.name, url: runLink(runId), title: a.title, text: a.text, level: a.level }, false);
  }

  const triggers = {
    onRunStatus: (runId: string, status: RunStatus) => serialize(runId, () => onRunStatus(runId, status)),
    /** a Set-size check when no project has metric rules: ingest pays nothing more */
    onPoints: (runId: string, points: LivePoint[]) => (metricRules.mayMatch() ? serialize(runId, () => onPoints(runId, points)) : undefined),
    onRunnerOffline: (runnerId: string) => serialize(`runner:${runnerId}`, () => onRunnerOffline(runnerId)),
    onSdkAlerts: (runId: string, alerts: RunAlert[]) => serialize(runId, () => onSdkAlerts(runId, alerts)),
  };

  return {
    ...rules,
    ...triggers,
    /** the timer's tick: retries that came due, and rows a dead process left mid-send */
    async deliverDue() {
      await queue.recoverStuck();
      await queue.drain();
    },
    /** the notifier, firing rules whenever a run's status changes or a run stores points */
    watchNotifier<N extends Notifier>(notifier: N): N {
      const runStatus = notifier.runStatus.bind(notifier);
      const livePoints = notifier.livePoints.bind(notifier);
      notifier.runStatus = (runId, status) => {
        runStatus(runId, status);
        void triggers.onRunStatus(runId, status);
      };
      notifier.livePoints = (runId, event) => {
        livePoints(runId, event);
        void triggers.onPoints(runId, event.points);
      };
      return notifier;
    },
  };
}
export type AlertService = ReturnType<typeof createAlertService>;
