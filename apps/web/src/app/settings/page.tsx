"use client";
import { useQuery } from "../../components/use-query";
import { api } from "../../lib/api";
import { AuditLog, UsersPanel } from "./admin-panels";
import { ApiKeysPanel } from "./api-keys-panel";

/** Your API keys; for admins also users and the audit log. */
export default function SettingsPage() {
  const me = useQuery(() => api.user.me.query(), []);
  return (
    <>
      <h1>Settings</h1>
      {me.data && (
        <p className="muted">
          Signed in as <strong>{me.data.user?.email ?? me.data.label}</strong>
          {me.data.admin ? " (instance admin)" : ""}.
        </p>
      )}
      <ApiKeysPanel />
      {me.data?.admin && <UsersPanel />}
      {me.data?.admin && <AuditLog />}
    </>
  );
}
