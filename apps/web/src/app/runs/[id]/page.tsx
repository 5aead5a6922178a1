"use client";
import { use, useEffect, useState } from "react";
import type { LivePointsEvent, Series } from "@heron/core";
import { PROTOCOL_VERSION } from "@heron/core";
import { api, getSocket } from "../../../lib/api";
import { useQuery } from "../../../components/use-query";
import { MetricChart } from "../../../components/metric-chart";
import { formatDate, formatDuration } from "../../../lib/format";

type Live = Record<string, { steps: number[]; values: (number | null)[] }>;

export default function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  const { data: run, error, reload } = useQuery(() => api.run.get.query({ runId: id }), [id], 5000);
  const [series, setSeries] = useState<Record<string, Series>>({});
  const [live, setLive] = useState<Live>({});
  const keys = run?.keys ?? [];
  const keysSig = keys.join("|");

  // stored data for each key; refetched when a new key shows up
  useEffect(() => {
    let stop = false;
    for (const key of keys) {
      if (series[key]) continue;
      api.metric.series.query({ runId: id, key, maxPoints: 1000 }).then((s) => !stop && setSeries((prev) => ({ ...prev, [key]: s })));
    }
    return () => {
      stop = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, keysSig]);

  // live points over socket.io; on reconnect (e.g. server restart) resubscribe and refetch
  useEffect(() => {
    const socket = getSocket();
    const subscribe = () => socket.emit("subscribe", { v: PROTOCOL_VERSION, runId: id });
    const onPoints = (e: LivePointsEvent) => {
      if (e.runId !== id) return;
      setLive((prev) => {
        const next: Live = { ...prev };
        for (const p of e.points) {
          const cur = next[p.key] ? { steps: [...next[p.key]!.steps], values: [...next[p.key]!.values] } : { steps: [], values: [] };
          cur.steps.push(p.step);
          cur.values.push(p.value);
          next[p.key] = cur;
        }
        return next;
      });
      if (e.points.some((p) => !keys.includes(p.key))) reload();
    };
    const onReconnect = () => {
      subscribe();
      setSeries({});
      setLive({});
      reload();
    };
    socket.on("points", onPoints);
    socket.on("connect", onReconnect);
    socket.on("run:status", reload);
    if (socket.connected) subscribe();
    return () => {
      socket.off("points", onPoints);
      socket.off("connect", onReconnect);
      socket.off("run:status", reload);
      socket.emit("unsubscribe", { v: PROTOCOL_VERSION, runId: id });
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, keysSig]);

  if (error) return <p className="error">{error}</p>;
  if (!run) return <p className="muted">Loading…</p>;
  const end = run.finishedAt ?? run.heartbeatAt ?? run.updatedAt;
  const empty = { steps: [], values: [] };
  return (
    <>
      <p className="muted"><a href={`/projects/${encodeURIComponent(run.projectName)}`}>{run.projectName}</a> / run</p>
      <h1>
        {run.name} <span className={`status status-${run.status}`} data-testid="run-status">{run.status}</span>
      </h1>
      <p className="muted">
        created {formatDate(run.createdAt)} · duration {formatDuration(new Date(end).getTime() - new Date(run.createdAt).getTime())}
        {run.host ? ` · host ${run.host}` : ""}
      </p>
      {run.error && <pre className="error">{run.error}</pre>}
      {keys.length === 0 && <p className="muted">No metrics logged yet — charts appear with the first point.</p>}
      <div className="charts">
        {keys.map((k) => (
          <MetricChart key={k} title={k} series={series[k] ?? null} live={live[k] ?? empty} />
        ))}
      </div>
      <h2>Config</h2>
      <pre data-testid="run-config">{JSON.stringify(run.config ?? {}, null, 2)}</pre>
    </>
  );
}
