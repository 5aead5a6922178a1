"use client";
import { type LivePointsEvent, PROTOCOL_VERSION } from "@heron/core";
import { useCallback, useEffect, useRef, useState } from "react";

import { getSocket } from "../lib/api";
import type { LivePoints } from "../lib/chart-data";

export type LiveByRun = Record<string, Record<string, LivePoints>>;

/**
 * Live points of some runs over socket.io, batched into React state at most every 150 ms (a
 * busy run sends hundreds of points a second). After a reconnect (server restart) it
 * resubscribes, drops what it held and calls onReconnect so the page refetches and catches up.
 *
 * `ready` turns true once the server confirmed every subscription (at once for no runs). A page
 * reads its stored data only then: a point written before that is in the store by the time of
 * the read, one written after arrives live (overlaps are merged away by step) — reading first
 * and subscribing after would lose what lands in between, for as long as the page stays open
 * (seen when the socket connected late on a loaded machine).
 */
export function useLivePoints(
  runIds: string[],
  handlers: { onReconnect?: () => void; onUnknownKey?: (runId: string, key: string) => void; knownKeys?: (runId: string) => Set<string> } = {},
) {
  const [live, setLive] = useState<LiveByRun>({});
  const pending = useRef<LiveByRun>({});
  const h = useRef(handlers);
  h.current = handlers;
  const sig = runIds.join(",");
  const [readySig, setReadySig] = useState<string | null>(null);

  useEffect(() => {
    if (!runIds.length) return;
    const socket = getSocket();
    const ids = new Set(runIds);
    let first = true;
    const subscribe = () => {
      let acked = 0;
      // answered even when refused (an unknown run): a page must not wait forever on it
      for (const runId of runIds) socket.emit("subscribe", { v: PROTOCOL_VERSION, runId }, () => ++acked === runIds.length && setReadySig(sig));
    };
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
  }, [sig]); // eslint-disable-line react-hooks/exhaustive-deps -- `sig` is the run-id list as one string: a new array with the same ids must not resubscribe

  /** forget live points up to each key's last stored step (they were folded into a fresh stored read) */
  const drop = useCallback((runId: string, upTo: Record<string, number>) => {
    setLive((prev) => {
      if (!prev[runId]) return prev;
      const run = { ...prev[runId] };
      for (const [k, last] of Object.entries(upTo)) {
        const cur = run[k];
        if (!cur) continue;
        // points that arrived while the read was in flight are newer than it: keep them
        const from = cur.steps.findIndex((step) => step > last);
        if (from < 0) delete run[k];
        else run[k] = { steps: cur.steps.slice(from), values: cur.values.slice(from), ts: cur.ts.slice(from) };
      }
      return { ...prev, [runId]: run };
    });
  }, []);
  return { live, drop, ready: runIds.length === 0 || readySig === sig };
}
