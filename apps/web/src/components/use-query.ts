"use client";
import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "../lib/api";

/**
 * Minimal data hook: loads, optionally refreshes every `refreshMs`, exposes reload(). Only the
 * latest request's answer is kept: a slow answer to an older query (the runs table's search as
 * it was two keystrokes ago) never lands over a newer one.
 */
export function useQuery<T>(fn: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const latest = useRef(0);
  const reload = useCallback(() => {
    const seq = ++latest.current;
    fnRef.current().then(
      (d) => {
        if (seq !== latest.current) return;
        setData(d);
        setError(null);
      },
      (e) => seq === latest.current && setError(errorMessage(e)),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the query depends on (`deps`); the function itself is read through a ref
  }, deps);
  useEffect(() => {
    reload();
    if (!refreshMs) return;
    const t = setInterval(reload, refreshMs);
    return () => clearInterval(t);
  }, [reload, refreshMs]);
  return { data, error, reload };
}
