"use client";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";
import { formatDate } from "../lib/format";
import { AlertRuleForm, EVENT_LABELS, type RuleDraft } from "./alert-rule-form";
import { useQuery } from "./use-query";

type Rule = Awaited<ReturnType<typeof api.alert.list.query>>[number];
type Delivery = Awaited<ReturnType<typeof api.alert.deliveries.query>>[number];

const ruleCondition = (r: Rule) =>
  r.event === "metric.above" ? `${r.metricKey} > ${r.threshold}` : r.event === "metric.below" ? `${r.metricKey} < ${r.threshold}` : (r.metricKey ?? "");

/** A project's alert rules (maintainers add, pause and delete them) and the webhook delivery log. */
export function AlertsPanel({ project, canManage }: { project: string; canManage: boolean }) {
  const rules = useQuery(() => api.alert.list.query({ projectId: project }), [project]);
  const deliveries = useQuery(() => api.alert.deliveries.query({ projectId: project, limit: 50 }), [project], 5000);
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      rules.reload();
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    }
  };
  const create = (d: RuleDraft) => act(() => api.alert.create.mutate({ projectId: project, ...d }));
  return (
    <details className="card" data-testid="alerts-panel">
      <summary>
        <strong>Alerts</strong> {rules.data ? `(${rules.data.length} rules)` : ""}
      </summary>
      {rules.data && rules.data.length > 0 && (
        <table aria-label="alert rules">
          <thead>
            <tr>
              <th>Rule</th>
              <th>When</th>
              <th>Condition</th>
              <th>Webhook</th>
              <th>On</th>
              {canManage && <th />}
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{EVENT_LABELS[r.event as keyof typeof EVENT_LABELS] ?? r.event}</td>
                <td>{ruleCondition(r)}</td>
                <td>
                  <code>{r.webhook}</code> ({r.format})
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`rule ${r.name} enabled`}
                    checked={r.enabled}
                    disabled={!canManage}
                    onChange={(e) => void act(() => api.alert.update.mutate({ projectId: project, ruleId: r.id, enabled: e.target.checked }))}
                  />
                </td>
                {canManage && (
                  <td>
                    <button onClick={() => confirm(`Delete the rule "${r.name}"?`) && act(() => api.alert.delete.mutate({ projectId: project, ruleId: r.id }))}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rules.data?.length === 0 && <p className="muted">No alert rules.</p>}
      {canManage && <AlertRuleForm onCreate={create} />}
      {(error ?? rules.error) && (
        <p className="error" role="alert">
          {error ?? rules.error}
        </p>
      )}
      <DeliveryLog rows={deliveries.data} />
    </details>
  );
}

function DeliveryLog({ rows }: { rows: Delivery[] | null }) {
  if (!rows) return null;
  if (!rows.length) return <p className="muted">No alerts sent yet.</p>;
  return (
    <table aria-label="alert deliveries">
      <thead>
        <tr>
          <th>When</th>
          <th>Rule</th>
          <th>Alert</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Last answer</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id} data-status={d.status}>
            <td>{formatDate(d.createdAt)}</td>
            <td>{d.ruleName}</td>
            <td>{d.runId ? <a href={`/runs/${d.runId}`}>{d.title}</a> : d.title}</td>
            <td>{d.status}</td>
            <td>{d.attempts}</td>
            <td>{d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? "")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
