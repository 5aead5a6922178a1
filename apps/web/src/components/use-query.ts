"use client";
import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "../lib/api";

/** Minimal data hook: loads, optionally refreshes every `refreshMs`, exposes reload(). */
export function useQuery<T>(fn: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const reload = useCallback(() => {
    fnRef.current().then(
      (d) => {
        setData(d);
        setError(null);
      },
      (e) => setError(errorMessage(e)),
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
