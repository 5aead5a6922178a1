"use client";
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import type { Series } from "@heron/core";

type Props = { title: string; series: Series | null; live: { steps: number[]; values: (number | null)[] } };

/**
 * One uPlot chart for one metric key: the stored series (exact points, or min/max band + last
 * when bucketed) with live points appended after its last step. Non-finite values are gaps.
 */
export function MetricChart({ title, series, live }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const lastStored = series?.steps.length ? series.steps[series.steps.length - 1]! : -1;
    const steps: number[] = [...(series?.steps ?? [])];
    const values: (number | null)[] = [...(series?.values ?? [])];
    const lo: (number | null)[] = [...(series?.min ?? series?.values ?? [])];
    const hi: (number | null)[] = [...(series?.max ?? series?.values ?? [])];
    for (let i = 0; i < live.steps.length; i++) {
      if (live.steps[i]! <= lastStored) continue;
      steps.push(live.steps[i]!);
      values.push(live.values[i]!);
      lo.push(live.values[i]!);
      hi.push(live.values[i]!);
    }
    const data: uPlot.AlignedData = [steps, values, lo, hi];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    const width = Math.max(300, el.current.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: false } },
        legend: { live: true },
        series: [
          { label: "step" },
          { label: title, stroke: "#2563eb", width: 1.5, spanGaps: false },
          { label: "min", stroke: "rgba(37,99,235,0.25)", width: 1 },
          { label: "max", stroke: "rgba(37,99,235,0.25)", width: 1 },
        ],
        bands: [{ series: [3, 2], fill: "rgba(37,99,235,0.12)" }],
        axes: [{ stroke: "#888" }, { stroke: "#888", size: 60 }],
      },
      data,
      el.current,
    );
  }, [series, live, title]);

  useEffect(() => () => plot.current?.destroy(), []);

  return (
    <div className="chart" data-testid={`chart-${title}`}>
      <h3>{title}</h3>
      <div ref={el} />
    </div>
  );
}
