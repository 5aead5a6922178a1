import { IdSchema, MetricKeySchema } from "@heron/core";
import { z } from "zod";

/**
 * What a rule reacts to. `run.failed` is any unsuccessful end (crashed or aborted: a failed job
 * ends its run crashed); `run.stale` is a run whose client went quiet (lost); `metric.above` /
 * `metric.below` fire when a metric crosses the threshold, once per run.
 */
export const ALERT_EVENTS = [
  "run.finished",
  "run.failed",
  "run.crashed",
  "run.aborted",
  "run.stale",
  "metric.above",
  "metric.below",
  "metric.nan",
  "runner.offline",
  "sdk.alert",
] as const;
export const AlertEventSchema = z.enum(ALERT_EVENTS);
export type AlertEvent = z.infer<typeof AlertEventSchema>;
export const AlertFormatSchema = z.enum(["generic", "slack", "discord", "feishu"]);
export type AlertFormat = z.infer<typeof AlertFormatSchema>;
export type AlertLevel = "info" | "warn" | "error";

export const WebhookUrlSchema = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "webhookUrl must be an http:// or https:// URL (without user:password@)");

const metricEvents = new Set<AlertEvent>(["metric.above", "metric.below", "metric.nan"]);

const RuleFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  event: AlertEventSchema,
  metricKey: MetricKeySchema.optional(),
  threshold: z.number().finite().optional(),
  webhookUrl: WebhookUrlSchema,
  format: AlertFormatSchema.default("generic"),
  enabled: z.boolean().default(true),
});

/** a metric rule names its key; a threshold rule its threshold */
function checkRule(r: { event?: AlertEvent; metricKey?: string; threshold?: number }, ctx: z.RefinementCtx) {
  if (!r.event) return;
  if (metricEvents.has(r.event) && !r.metricKey) ctx.addIssue({ code: "custom", path: ["metricKey"], message: `a ${r.event} rule needs metricKey` });
  if ((r.event === "metric.above" || r.event === "metric.below") && r.threshold === undefined)
    ctx.addIssue({ code: "custom", path: ["threshold"], message: `a ${r.event} rule needs threshold` });
}

export const AlertRuleCreateSchema = RuleFieldsSchema.extend({ projectId: z.string().min(1) }).superRefine(checkRule);
export type AlertRuleCreate = z.input<typeof AlertRuleCreateSchema>;

export const AlertRuleUpdateSchema = RuleFieldsSchema.partial()
  .extend({ ruleId: IdSchema, projectId: z.string().min(1) })
  .extend({ metricKey: MetricKeySchema.nullable().optional(), threshold: z.number().finite().nullable().optional() });
export type AlertRuleUpdate = z.infer<typeof AlertRuleUpdateSchema>;

export const AlertRuleRefSchema = z.object({ ruleId: IdSchema, projectId: z.string().min(1) });
export const AlertDeliveriesSchema = z.object({ projectId: z.string().min(1), limit: z.number().int().min(1).max(500).optional() });

export const isMetricEvent = (e: string) => metricEvents.has(e as AlertEvent);

/** Webhook URLs carry tokens (Slack, Discord, Feishu): show and log only scheme, host and a hint of the path. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.length > 8 ? u.pathname.slice(0, 8) + "…" : u.pathname;
    return `${u.protocol}//${u.host}${path}${u.search ? "?…" : ""}`;
  } catch {
    return "(invalid url)";
  }
}
