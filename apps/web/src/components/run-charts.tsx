"use client";
import type { Series } from "@heron/core";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { api, errorMessage } from "../lib/api";
import { type ChartSettings, groupKeys } from "../lib/chart-data";
import { colorAt } from "../lib/colors";
import { ChartGrid } from "./chart-grid";
import { MetricChart, type StepRange } from "./metric-chart";
import { useLivePoints } from "./use-live-points";

const MAX_POINTS = 1000;
/** live points kept beside a stored series before it is refetched (keeps redraws cheap on long runs) */
const LIVE_REFETCH_AT = 2000;

type Props = {
  runId: string;
  runName: string;
  keys: string[];
  startTs: number;
  settings: ChartSettings;
  /** called when a point arrives for a key the page doesn't know yet */
  onNewKey?: () => void;
  /** key prefix depth of a section (2 for sys/<host>/…) */
  sectionDepth?: number;
  /** the run's status: when it stops running, the stored data is re-read (the final word, whatever live delivered) */
  status?: string;
  /** collapsed sections, when the page keeps them (in its URL); otherwise kept here */
  collapsed?: Record<string, boolean>;
  onCollapsedChange?: (collapsed: Record<string, boolean>) => void;
  /** a step action on right-click (the run page's "fork from here") */
  onStepContext?: (step: number) => void;
};

/**
 * The charts of one run, grouped into collapsible sections by key prefix. Stored data comes
 * bucketed (≤ 1000 buckets with min/max); live points arrive over socket.io and are appended
 * (flushed to React at most every 150 ms). Zooming re-queries the chosen step range.
 */
export function RunCharts({ runId, runName, keys, startTs, settings, onNewKey, sectionDepth = 1, status, ...props }: Props) {
  const [series, setSeries] = useState<Record<string, Series>>({});
  const [zoom, setZoom] = useState<Record<string, StepRange>>({});
  const [ownCollapsed, setOwnCollapsed] = useState<Record<string, boolean>>({});
  const collapsed = props.collapsed ?? ownCollapsed;
  const setCollapsed = props.onCollapsedChange ?? setOwnCollapsed;
  const [error, setError] = useState<string | null>(null);
  const known = useRef(new Set<string>());
  known.current = new Set(keys);
  const keysSig = keys.join("\n");
  const fetchRef = useRef<(ks: string[], ranges: Record<string, StepRange>) => Promise<void>>(() => Promise.resolve());
  const {
    live: liveByRun,
    drop,
    ready,
  } = useLivePoints([runId], {
    knownKeys: () => known.current,
    onUnknownKey: () => onNewKey?.(),
    // a server restart: refetch everything to catch up on what was written meanwhile
    onReconnect: () => {
      setZoom({});
      void fetchRef.current([...known.current], {});
      onNewKey?.();
    },
  });
  const live = useMemo(() => liveByRun[runId] ?? {}, [liveByRun, runId]);

  const fetchKeys = useCallback(
    (ks: string[], ranges: Record<string, StepRange>) => {
      if (!ks.length) return Promise.resolve();
      // one HTTP request: the tRPC link batches these
      return Promise.all(
        ks.map((key) => api.metric.series.query({ runId, key, maxPoints: MAX_POINTS, ...(ranges[key] ?? {}) }).then((s) => [key, s] as const)),
      ).then(
        (pairs) => {
          setSeries((prev) => ({ ...prev, ...Object.fromEntries(pairs) }));
          // a zoomed read ends at its window: the live tail is dropped with it, as before
          drop(runId, Object.fromEntries(pairs.map(([k, s]) => [k, ranges[k] ? Infinity : (s.steps.at(-1) ?? -1)])));
          setError(null);
        },
        (e) => setError(errorMessage(e)),
      );
    },
    [runId, drop],
  );
  fetchRef.current = fetchKeys;

  // stored data for keys not loaded yet — for a running run only once its live subscription
  // is confirmed, so no point falls between the read and the subscription
  const canRead = ready || status !== "running";
  useEffect(() => {
    if (canRead)
      void fetchKeys(
        keys.filter((k) => !series[k]),
        zoom,
      );
  }, [runId, keysSig, canRead]); // eslint-disable-line react-hooks/exhaustive-deps -- reads on new keys (keysSig) only; a zoom change re-reads through onZoom

  // the run ended: one last stored read replaces the live tail
  const prevStatus = useRef(status);
  useEffect(() => {
    if (prevStatus.current === "running" && status !== "running") void fetchKeys([...known.current], zoom);
    prevStatus.current = status;
  }, [status]); // eslint-disable-line react-hooks/exhaustive-deps -- only the status transition triggers the final read

  // a long live run: fold accumulated live points back into a fresh bucketed read
  useEffect(() => {
    const long = Object.entries(live)
      .filter(([k, l]) => l.steps.length > LIVE_REFETCH_AT && !zoom[k])
      .map(([k]) => k);
    if (long.length) void fetchKeys(long, {});
  }, [live, zoom, fetchKeys]);

  const onZoom = (key: string, range: StepRange | null) => {
    // from the latest state, not this render's `zoom`: two charts zooming in one tick must not
    // drop each other's window (the chart's Reset zoom button reads it)
    setZoom((z) => {
      const next = { ...z };
      if (range) next[key] = range;
      else delete next[key];
      return next;
    });
    // fetchKeys reads only the fetched keys' ranges
    void fetchKeys([key], range ? { [key]: range } : {});
  };

  const sections = useMemo(() => groupKeys(keys, sectionDepth), [keysSig, sectionDepth]); // eslint-disable-line react-hooks/exhaustive-deps -- keysSig stands for `keys` (same keys, new array: same sections)
  const color = colorAt(0);
  return (
    <div className="sections">
      {error && (
        <p className="error" role="alert">
          Could not load metrics: {error}. <button onClick={() => void fetchKeys(keys, zoom)}>Retry</button>
        </p>
      )}
      <ChartGrid
        sections={sections}
        collapsed={collapsed}
        onToggle={(section) => setCollapsed({ ...collapsed, [section]: !collapsed[section] })}
        renderChart={(k) => (
          <MetricChart
            key={k}
            title={k}
            settings={settings}
            sync="run"
            zoomed={!!zoom[k]}
            onZoom={(r) => onZoom(k, r)}
            onStepContext={props.onStepContext}
            lines={[{ id: runId, label: runName, color, series: series[k] ?? null, live: zoom[k] ? undefined : live[k], startTs }]}
          />
        )}
      />
    </div>
  );
}
