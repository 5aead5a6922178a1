"use client";
import { useEffect, useState, type ReactNode } from "react";
import { hasApiKey, saveApiKey, setApiKey } from "../lib/api";

/** Local mode: the server handed us a key. Team mode: ask once, keep it in localStorage. */
export function KeyGate({ localKey, children }: { localKey: string | null; children: ReactNode }) {
  const [state, setState] = useState<"loading" | "ready" | "ask">("loading");
  const [value, setValue] = useState("");
  useEffect(() => {
    setApiKey(localKey);
    setState(hasApiKey() ? "ready" : "ask");
  }, [localKey]);
  if (state === "loading") return <p className="muted">Loading…</p>;
  if (state === "ready") return <>{children}</>;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        saveApiKey(value.trim());
        setState("ready");
      }}
    >
      <h1>Sign in</h1>
      <p className="muted">This Heron server is in team mode. Paste an API key (ask your admin, or see the README).</p>
      <input aria-label="API key" value={value} onChange={(e) => setValue(e.target.value)} size={50} autoFocus />{" "}
      <button className="primary" type="submit">Continue</button>
    </form>
  );
}
