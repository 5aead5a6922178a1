"use client";
import { useEffect, useState } from "react";

type Theme = "auto" | "light" | "dark";
const NEXT: Record<Theme, Theme> = { auto: "light", light: "dark", dark: "auto" };

/** Light / dark / follow the system; remembered per browser. The layout's inline script applies it before paint. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>("auto");
  useEffect(() => setTheme((localStorage.getItem("heron.theme") as Theme | null) ?? "auto"), []);
  const cycle = () => {
    const t = NEXT[theme];
    setTheme(t);
    localStorage.setItem("heron.theme", t);
    if (t === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = t;
  };
  return (
    <button className="theme-toggle" onClick={cycle} aria-label={`theme: ${theme} (click to change)`} title="switch theme">
      {theme === "dark" ? "☾ Dark" : theme === "light" ? "☀ Light" : "◐ Auto"}
    </button>
  );
}
