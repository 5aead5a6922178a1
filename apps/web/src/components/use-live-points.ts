"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { PROTOCOL_VERSION, type LivePointsEvent } from "@heron/core";
import { getSocket } from "../lib/api";
import type { LivePoints } from "../lib/chart-data";

export type LiveByRun = Record<string, Record<string, LivePoints>>;

/**
 * Live points of some runs over socket.io, batched into React state at most every 150 ms (a
 * busy run sends hundreds of points a second). After a reconnect (server restart) it
 * resubscribes, drops what it held and calls onReconnect so the page refetches and catches up.
 */
export function useLivePoints(runIds: string[], handlers: { onReconnect?: () => void; onUnknownKey?: (runId: string, key: string) => void; knownKeys?: (runId: string) => Set<string> } = {}) {
  const [live, setLive] = useState<LiveByRun>({});
  const pending = useRef<LiveByRun>({});
  const h = useRef(handlers);
  h.current = handlers;
  const sig = runIds.join(",");

  useEffect(() => {
    if (!runIds.length) return;
    const socket = getSocket();
    const ids = new Set(runIds);
    let first = true;
    const subscribe = () => runIds.forEach((runId) => socket.emit("subscribe", { v: PROTOCOL_VERSION, runId }));
    const onPoints = (e: LivePointsEvent) => {
      if (!ids.has(e.runId)) return;
      const known = h.current.knownKeys?.(e.runId);
      const byKey = (pending.current[e.runId] ??= {});
      for (const p of e.points) {
        if (known && !known.has(p.key)) h.current.onUnknownKey?.(e.runId, p.key);
        const cur = (byKey[p.key] ??= { steps: [], values: [], ts: [] });
        cur.steps.push(p.step);
        cur.values.push(p.value);
        cur.ts.push(p.ts);
      }
    };
    const onConnect = () => {
      subscribe();
      if (first) return void (first = false);
      pending.current = {};
      setLive({});
      h.current.onReconnect?.();
    };
    const flush = setInterval(() => {
      const batch = pending.current;
      if (!Object.keys(batch).length) return;
      pending.current = {};
      setLive((prev) => {
        const next = { ...prev };
        for (const [runId, byKey] of Object.entries(batch)) {
          const run = { ...(next[runId] ?? {}) };
          for (const [k, p] of Object.entries(byKey)) {
            const cur = run[k];
            run[k] = cur ? { steps: cur.steps.concat(p.steps), values: cur.values.concat(p.values), ts: cur.ts.concat(p.ts) } : p;
          }
          next[runId] = run;
        }
        return next;
      });
    }, 150);
    socket.on("points", onPoints);
    socket.on("connect", onConnect);
    if (socket.connected) {
      first = false;
      subscribe();
    }
    return () => {
      clearInterval(flush);
      socket.off("points", onPoints);
      socket.off("connect", onConnect);
      runIds.forEach((runId) => socket.emit("unsubscribe", { v: PROTOCOL_VERSION, runId }));
    };
  }, [sig]); // eslint-disable-line react-hooks/exhaustive-deps

  /** forget live points of these keys (they were folded into a fresh stored read) */
  const drop = useCallback((runId: string, keys: string[]) => {
    setLive((prev) => {
      if (!prev[runId]) return prev;
      const run = { ...prev[runId] };
      for (const k of keys) delete run[k];
      return { ...prev, [runId]: run };
    });
  }, []);
  return { live, drop };
}
