"use client";
import { useState } from "react";

import { flattenConfig } from "../lib/flatten";

type Run = { id: string; name: string; color: string; config: unknown };

/** Config values side by side; rows whose values differ between runs are highlighted. */
export function ConfigDiff({ runs }: { runs: Run[] }) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const flat = runs.map((r) => flattenConfig(r.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differs = (k: string) => new Set(flat.map((f) => f[k] ?? "∅")).size > 1;
  const shown = keys.filter((k) => !onlyDiff || differs(k));
  const nDiff = keys.filter(differs).length;
  if (!keys.length) return <p className="muted">None of these runs recorded a config.</p>;
  return (
    <div>
      <label className="toolbar">
        <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} /> Only differences ({nDiff} of {keys.length} keys differ)
      </label>
      <div className="table-scroll">
        <table data-testid="config-diff">
          <thead>
            <tr>
              <th>key</th>
              {runs.map((r) => (
                <th key={r.id}>
                  <i className="swatch" style={{ background: r.color }} /> {r.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((k) => (
              <tr key={k} className={differs(k) ? "diff" : undefined} data-key={k} data-differs={differs(k) ? "1" : "0"}>
                <th scope="row">{k}</th>
                {flat.map((f, i) => (
                  <td key={runs[i]!.id} className="mono">
                    {f[k] ?? <span className="muted">—</span>}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
