"use client";
import { useState } from "react";

import type { AlertEvent, AlertFormat } from "../server/services/alerts/schemas";

/** the rule events as the form offers them (mirrors ALERT_EVENTS on the server) */
export const EVENT_LABELS: Record<AlertEvent, string> = {
  "run.finished": "run finished",
  "run.failed": "run failed (crashed or aborted)",
  "run.crashed": "run crashed",
  "run.aborted": "run aborted",
  "run.stale": "run lost (stale)",
  "metric.above": "metric above a threshold",
  "metric.below": "metric below a threshold",
  "metric.nan": "metric turns NaN",
  "runner.offline": "a runner goes offline",
  "sdk.alert": "the script calls run.alert()",
};
const FORMATS: AlertFormat[] = ["generic", "slack", "discord", "feishu"];

export type RuleDraft = { name: string; event: AlertEvent; metricKey?: string; threshold?: number; webhookUrl: string; format: AlertFormat };

/** A maintainer's form for a new alert rule; the metric fields appear for metric events only. */
export function AlertRuleForm({ onCreate }: { onCreate: (draft: RuleDraft) => Promise<boolean> }) {
  const [name, setName] = useState("");
  const [event, setEvent] = useState<AlertEvent>("run.failed");
  const [metricKey, setMetricKey] = useState("");
  const [threshold, setThreshold] = useState("");
  const [webhookUrl, setWebhookUrl] = useState("");
  const [format, setFormat] = useState<AlertFormat>("generic");
  const isMetric = event.startsWith("metric.");
  const needsThreshold = event === "metric.above" || event === "metric.below";
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        const draft: RuleDraft = { name, event, webhookUrl, format };
        if (isMetric) draft.metricKey = metricKey;
        if (needsThreshold && threshold.trim() !== "") draft.threshold = Number(threshold);
        void onCreate(draft).then((ok) => ok && (setName(""), setWebhookUrl("")));
      }}
    >
      <input aria-label="rule name" placeholder="rule name" value={name} onChange={(e) => setName(e.target.value)} />
      <select aria-label="rule event" value={event} onChange={(e) => setEvent(e.target.value as AlertEvent)}>
        {Object.entries(EVENT_LABELS).map(([id, label]) => (
          <option key={id} value={id}>
            {label}
          </option>
        ))}
      </select>
      {isMetric && <input aria-label="metric key" placeholder="metric key, e.g. train/loss" value={metricKey} onChange={(e) => setMetricKey(e.target.value)} />}
      {needsThreshold && <input aria-label="threshold" type="number" step="any" value={threshold} onChange={(e) => setThreshold(e.target.value)} />}
      <input aria-label="webhook URL" type="url" placeholder="https://hooks.slack.com/…" value={webhookUrl} onChange={(e) => setWebhookUrl(e.target.value)} />
      <select aria-label="webhook format" value={format} onChange={(e) => setFormat(e.target.value as AlertFormat)}>
        {FORMATS.map((f) => (
          <option key={f} value={f}>
            {f}
          </option>
        ))}
      </select>
      <button type="submit">Add rule</button>
    </form>
  );
}
