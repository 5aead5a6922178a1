"use client";
import { useState } from "react";

import { authHeaders, refreshLocalKey } from "../lib/api";

/**
 * Downloads the run's metrics as CSV (GET /api/runs/:id/metrics.csv). A plain link would carry
 * no credentials in local mode (the key lives in memory, not in a cookie) and keys never go in
 * URLs: fetch with the Authorization header, then save the body as a blob.
 */
export function RunCsvLink({ runId, runName }: { runId: string; runName: string }) {
  const [state, setState] = useState<string | null>(null);
  const download = async () => {
    setState("preparing…");
    try {
      const url = `/api/runs/${encodeURIComponent(runId)}/metrics.csv`;
      let res = await fetch(url, { headers: authHeaders() });
      // a restarted local server has a new key: refresh once, like the tRPC client does
      if (res.status === 401 && (await refreshLocalKey())) res = await fetch(url, { headers: authHeaders() });
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
      const blob = await res.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${runName.replace(/[^A-Za-z0-9._-]/g, "_")}-metrics.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      setState(null);
    } catch (e) {
      setState(`CSV download failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <span>
      <button className="link" onClick={() => void download()} data-testid="run-csv">
        Download CSV
      </button>
      {state && <span className={state.startsWith("CSV") ? "error" : "muted"}> {state}</span>}
    </span>
  );
}
