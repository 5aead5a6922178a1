"use client";
import { AliasSchema } from "@heron/core";
import { useState } from "react";

import { api, errorMessage } from "../lib/api";

/**
 * Points an alias (production, staging, …) at this version: maintainers only (the server
 * checks too, and the audit log records every move). Others see why they cannot.
 */
export function ArtifactAliasForm({
  versionId,
  version,
  canSet,
  onSet,
}: {
  versionId: string;
  version: number;
  canSet: boolean;
  onSet: (alias: string) => void;
}) {
  const [alias, setAlias] = useState("production");
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  if (!canSet)
    return (
      <p className="muted">
        <code>latest</code> always names the newest version. Moving other aliases (production, staging, …) needs the maintainer role in this project.
      </p>
    );
  const check = AliasSchema.safeParse(alias);
  return (
    <form
      className="actions"
      onSubmit={(e) => {
        e.preventDefault();
        if (!check.success) return;
        setBusy(true);
        api.artifact.setAlias.mutate({ artifactVersionId: versionId, alias }).then(
          () => {
            setBusy(false);
            setMsg({ ok: true, text: `${alias} → v${version}` });
            onSet(alias);
          },
          (err: unknown) => {
            setBusy(false);
            setMsg({ ok: false, text: errorMessage(err) });
          },
        );
      }}
    >
      <label>
        alias <input aria-label="alias" value={alias} onChange={(e) => setAlias(e.target.value)} list="artifact-alias-suggestions" maxLength={64} />
      </label>
      <datalist id="artifact-alias-suggestions">
        <option value="production" />
        <option value="staging" />
        <option value="candidate" />
      </datalist>{" "}
      <button type="submit" className="primary" disabled={busy || !check.success || alias === "latest"}>
        Point at v{version}
      </button>{" "}
      {!check.success && <span className="error small">{check.error.issues[0]?.message}</span>}
      {alias === "latest" && <span className="muted small">latest moves by itself to the newest version</span>}
      {msg && (
        <span className={msg.ok ? "muted small" : "error small"} role={msg.ok ? "status" : "alert"}>
          {msg.text}
        </span>
      )}
    </form>
  );
}
