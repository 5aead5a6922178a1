"use client";
import { type ReactNode, useEffect, useState } from "react";

import { api, saveApiKey, setApiKey } from "../lib/api";

/**
 * Local mode: the server handed us a key. Team mode: the session cookie (sign in with email
 * and password), or an API key pasted once and kept in localStorage.
 */
export function KeyGate({ localKey, children }: { localKey: string | null; children: ReactNode }) {
  const [state, setState] = useState<"loading" | "ready" | "ask">("loading");
  const [mode, setMode] = useState<"password" | "key">("password");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setApiKey(localKey);
    if (localKey) return setState("ready");
    api.user.me.query().then(
      () => setState("ready"),
      () => setState("ask"),
    );
  }, [localKey]);
  if (state === "loading") return <p className="muted">Loading…</p>;
  if (state === "ready") return <>{children}</>;
  const signIn = async () => {
    setError(null);
    const res = await fetch("/api/auth/sign-in", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (!res.ok) return setError(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `sign-in failed (${res.status})`);
    // everything on the page (header included) now renders as this user
    location.reload();
  };
  return (
    <form
      className="card narrow-card"
      onSubmit={(e) => {
        e.preventDefault();
        if (mode === "password") return void signIn();
        saveApiKey(key.trim());
        location.reload();
      }}
    >
      <h1>Sign in</h1>
      <p className="muted">This Heron server is shared by a team. Sign in with the account your admin created, or use an API key.</p>
      {mode === "password" ? (
        <>
          <div className="field">
            <label htmlFor="signin-email">email</label>
            <input id="signin-email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </div>
          <div className="field">
            <label htmlFor="signin-password">password</label>
            <input id="signin-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
        </>
      ) : (
        <div className="field">
          <label htmlFor="signin-key">API key</label>
          <input id="signin-key" value={key} onChange={(e) => setKey(e.target.value)} size={50} autoFocus />
        </div>
      )}
      <p>
        <button className="primary" type="submit">
          {mode === "password" ? "Sign in" : "Continue"}
        </button>{" "}
        <button type="button" onClick={() => setMode(mode === "password" ? "key" : "password")}>
          {mode === "password" ? "Use an API key instead" : "Use email and password"}
        </button>
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
