"use client";
import { useEffect, useState } from "react";

import { type ChartSettings, DEFAULT_SETTINGS } from "../lib/chart-data";
import { collapsedFromParams, collapsedToParams, replaceQuery, settingsFromParams, settingsToParams } from "../lib/view-params";

/**
 * The run page's view state (open tab, chart settings, collapsed sections), mirrored in the
 * URL so a link or a reload opens the same view. Read once after mount (the server render
 * has no URL query to match), written on every change with history.replaceState.
 */
export function useRunView<T extends string>(tabs: readonly T[], defaultTab: T) {
  const [tab, setTab] = useState<T>(defaultTab);
  const [settings, setSettings] = useState<ChartSettings>(DEFAULT_SETTINGS);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  const [read, setRead] = useState(false);
  useEffect(() => {
    const p = new URLSearchParams(window.location.search);
    const t = p.get("tab") as T | null;
    if (t && tabs.includes(t)) setTab(t);
    setSettings(settingsFromParams(p));
    setCollapsed(collapsedFromParams(p));
    setRead(true);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps -- the URL is read once, on mount; later changes come from the page itself
  useEffect(() => {
    if (!read) return;
    replaceQuery((p) => {
      if (tab === defaultTab) p.delete("tab");
      else p.set("tab", tab);
      settingsToParams(settings, p);
      collapsedToParams(collapsed, p);
    });
  }, [read, tab, settings, collapsed, defaultTab]);
  return { tab, setTab, settings, setSettings, collapsed, setCollapsed };
}
