"use client";
import { type ReactNode, useEffect, useRef, useState } from "react";

import { downloadText, toCsv } from "../lib/csv";

type Cell = string | number | null | undefined;

/** a file name from a panel title: "train/loss, val/loss" → "train_loss_val_loss" */
const fileName = (title: string) => title.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "") || "panel";

/**
 * A chart panel's frame: its title, fullscreen (Esc leaves it), a PNG of the drawn canvas and a
 * CSV of the panel's data (`csv` builds the rows when asked). The chart itself is a child, told
 * whether it is fullscreen so it can grow.
 */
export function PanelFrame({ title, csv, children, tools }: { title: string; csv: () => Cell[][]; children: (full: boolean) => ReactNode; tools?: ReactNode }) {
  const [full, setFull] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!full) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setFull(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [full]);
  const png = () => {
    const canvas = root.current?.querySelector("canvas");
    if (!canvas) return;
    const a = document.createElement("a");
    a.href = canvas.toDataURL("image/png");
    a.download = `${fileName(title)}.png`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  };
  return (
    <div ref={root} className={full ? "chart chart-full" : "chart"} data-panel={title} data-fullscreen={full ? "1" : undefined}>
      <div className="chart-head">
        <h3 title={title}>{title}</h3>
        {tools}
        <button className="link" onClick={() => setFull((f) => !f)} aria-pressed={full} title={full ? "leave fullscreen (Esc)" : "fill the window"}>
          {full ? "Exit fullscreen" : "Fullscreen"}
        </button>
        <button className="link" onClick={png} title="download the chart as a PNG image">
          PNG
        </button>
        <button className="link" onClick={() => downloadText(`${fileName(title)}.csv`, toCsv(csv()))} title="download this panel's data as CSV">
          CSV
        </button>
      </div>
      {children(full)}
    </div>
  );
}
