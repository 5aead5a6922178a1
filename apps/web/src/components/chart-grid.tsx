"use client";
import type { ReactNode } from "react";

import { SectionToggle } from "./section-toggle";

/**
 * Metric charts grouped in collapsible sections (a key's prefix before "/"), as the run page
 * and the compare view both show them; each page says how one key's chart is drawn.
 */
export function ChartGrid({
  sections,
  collapsed,
  onToggle,
  renderChart,
}: {
  sections: [section: string, keys: string[]][];
  collapsed: Record<string, boolean>;
  onToggle: (section: string) => void;
  renderChart: (key: string) => ReactNode;
}) {
  return (
    <>
      {sections.map(([section, ks]) => (
        <section key={section} className="section" data-section={section}>
          <SectionToggle section={section} count={ks.length} collapsed={!!collapsed[section]} onToggle={() => onToggle(section)} />
          {!collapsed[section] && <div className="charts">{ks.map((k) => renderChart(k))}</div>}
        </section>
      ))}
    </>
  );
}
