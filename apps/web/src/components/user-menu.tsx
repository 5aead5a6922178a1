"use client";
import { useEffect, useState } from "react";

import { api, forgetApiKey } from "../lib/api";

/** Who is signed in, and the way out (team mode); "local" on this machine in local mode. */
export function UserMenu() {
  const [me, setMe] = useState<{ label: string; viaSession: boolean; admin: boolean } | null>(null);
  useEffect(() => {
    api.user.me.query().then(
      (m) => setMe({ label: m.user?.email ?? m.label, viaSession: m.viaSession, admin: m.admin }),
      () => setMe(null),
    );
  }, []);
  if (!me) return null;
  return (
    <span className="user-menu" data-testid="user-menu">
      <a href="/settings">{me.label === "local" ? "Settings" : me.label}</a>
      {me.label !== "local" && (
        <button
          type="button"
          onClick={async () => {
            await fetch("/api/auth/sign-out", { method: "POST" });
            forgetApiKey();
            location.href = "/";
          }}
        >
          Sign out
        </button>
      )}
    </span>
  );
}
