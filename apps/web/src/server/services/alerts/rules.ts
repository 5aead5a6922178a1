import { AppError } from "@heron/core";
import type { Models, PrismaClient } from "@heron/db";

import { type AlertRuleCreate, AlertRuleCreateSchema, type AlertRuleUpdate, isMetricEvent, redactUrl } from "./schemas";

type AlertRule = Models.AlertRuleModel;

/** a rule as lists show it: the webhook URL redacted (it carries a token) */
export function publicRule({ webhookUrl, ...r }: AlertRule) {
  return { ...r, webhook: redactUrl(webhookUrl) };
}

/** Rules and the delivery log of a project; `projectId` is the resolved id. */
export function createRuleStore(prisma: PrismaClient, changed: () => Promise<void>) {
  async function own(projectId: string, ruleId: string) {
    const rule = await prisma.alertRule.findFirst({ where: { id: ruleId, projectId } });
    if (!rule) throw new AppError("NOT_FOUND", `alert rule "${ruleId}" not found in this project`);
    return rule;
  }
  return {
    async listRules(projectId: string) {
      return (await prisma.alertRule.findMany({ where: { projectId }, orderBy: { createdAt: "asc" } })).map(publicRule);
    },
    async createRule(projectId: string, input: AlertRuleCreate, createdBy: string | null) {
      const r = AlertRuleCreateSchema.parse(input);
      const rule = await prisma.alertRule.create({
        data: {
          projectId,
          name: r.name,
          event: r.event,
          metricKey: isMetricEvent(r.event) ? (r.metricKey ?? null) : null,
          threshold: r.threshold ?? null,
          webhookUrl: r.webhookUrl,
          format: r.format,
          enabled: r.enabled,
          createdBy,
        },
      });
      await changed();
      return publicRule(rule);
    },
    /** omitted fields stay; a new webhookUrl replaces the old one (which is never shown) */
    async updateRule(projectId: string, input: AlertRuleUpdate) {
      const old = await own(projectId, input.ruleId);
      const next = {
        event: input.event ?? old.event,
        metricKey: input.metricKey === undefined ? old.metricKey : input.metricKey,
        threshold: input.threshold === undefined ? old.threshold : input.threshold,
      };
      const event = next.event as AlertRuleCreate["event"];
      if (isMetricEvent(event) && !next.metricKey) throw new AppError("BAD_REQUEST", `a ${event} rule needs metricKey`);
      if ((event === "metric.above" || event === "metric.below") && next.threshold === null)
        throw new AppError("BAD_REQUEST", `a ${event} rule needs threshold`);
      const rule = await prisma.alertRule.update({
        where: { id: old.id },
        data: {
          ...next,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
          ...(input.format !== undefined ? { format: input.format } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        },
      });
      await changed();
      return publicRule(rule);
    },
    async deleteRule(projectId: string, ruleId: string) {
      await own(projectId, ruleId);
      await prisma.alertRule.delete({ where: { id: ruleId } });
      await changed();
      return { ok: true as const };
    },
    /** newest first, with the rule's name */
    async deliveries(projectId: string, limit = 100) {
      const rows = await prisma.alertDelivery.findMany({
        where: { projectId },
        orderBy: { createdAt: "desc" },
        take: limit,
        include: { rule: { select: { name: true, format: true } } },
      });
      return rows.map(({ rule, ...d }) => ({ ...d, ruleName: rule.name, format: rule.format }));
    },
  };
}
