"use client";

/** The collapsible header of a chart section ("train", "test", "sys/…"): shared by the run page and the compare view. */
export function SectionToggle({ section, count, collapsed, onToggle }: { section: string; count: number; collapsed: boolean; onToggle: () => void }) {
  return (
    <h2>
      <button className="section-toggle" aria-expanded={!collapsed} onClick={onToggle}>
        <span aria-hidden>{collapsed ? "▸" : "▾"}</span> {section} <span className="muted">({count})</span>
      </button>
    </h2>
  );
}
